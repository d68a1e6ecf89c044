/**
 * GitHub's job objects as WorkflowJob (pure): one function for the `workflow_job` webhook, one for
 * the REST job object. Fields GitHub documents as nullable get defaults; the ones we act on (ids,
 * repository, labels, head sha, status) must be there or the reply is malformed.
 */
import { isRepoName } from "./repo-name.js";
import type { Json, ReplySource } from "./reply-fields.js";
import { int, malformed, nullableStr, object, optionalInt, str, strList } from "./reply-fields.js";
import type { WorkflowJob, WorkflowJobStatus } from "./types.js";

export type WebhookAction = "queued" | "in_progress" | "completed" | "waiting";

const ACTIONS: readonly string[] = ["queued", "in_progress", "completed", "waiting"];

export function isWebhookAction(value: unknown): value is WebhookAction {
  return typeof value === "string" && ACTIONS.includes(value);
}

/**
 * GitHub's job statuses folded into ours: `requested` and `pending` (held by concurrency or a
 * protection rule) are not yet runnable, like `waiting`.
 */
const STATUSES: Readonly<Record<string, WorkflowJobStatus>> = {
  queued: "queued",
  in_progress: "in_progress",
  completed: "completed",
  waiting: "waiting",
  requested: "waiting",
  pending: "waiting",
};

/** Fields shared by the webhook's `workflow_job` and the REST job object. */
function jobFields(
  source: ReplySource,
  job: Json,
  path: string,
): Omit<WorkflowJob, "repo" | "installationId" | "org"> {
  const status = STATUSES[String(job.status)];
  if (status === undefined) {
    throw malformed(
      source,
      `${path}.status`,
      `one of ${Object.keys(STATUSES).join(", ")}`,
      job.status,
    );
  }
  return {
    id: int(source, job, "id", path),
    runId: int(source, job, "run_id", path),
    runAttempt: optionalInt(source, job, "run_attempt", path) ?? 1,
    name: str(source, job, "name", path),
    workflowName: nullableStr(source, job, "workflow_name", path) ?? "",
    labels: strList(source, job, "labels", path),
    headSha: str(source, job, "head_sha", path),
    status,
    conclusion: nullableStr(source, job, "conclusion", path),
    runnerName: nullableStr(source, job, "runner_name", path),
    htmlUrl: nullableStr(source, job, "html_url", path) ?? "",
  };
}

/** A REST job object (GET …/actions/jobs/{id}, …/runs/{id}/jobs), which does not name its repo. */
export function jobFromRest(
  raw: unknown,
  context: { repo: string; what: string; installationId?: number; org?: string },
): WorkflowJob {
  const source: ReplySource = { kind: "rest", what: context.what };
  const job = object(source, raw, "job");
  return {
    ...jobFields(source, job, "job"),
    repo: context.repo,
    ...(context.installationId === undefined ? {} : { installationId: context.installationId }),
    ...(context.org === undefined ? {} : { org: context.org }),
  };
}

/** A parsed `workflow_job` delivery body. */
export interface WebhookJob {
  readonly action: WebhookAction;
  readonly job: WorkflowJob;
}

/**
 * A `workflow_job` webhook body (already JSON-parsed). Throws SBX_GITHUB_WEBHOOK_PAYLOAD naming
 * the field. Callers filter unknown actions first (see isWebhookAction).
 */
export function jobFromWebhook(payload: unknown): WebhookJob {
  const source: ReplySource = { kind: "webhook", what: "workflow_job" };
  const body = object(source, payload, "payload");
  if (!isWebhookAction(body.action)) {
    throw malformed(source, "action", `one of ${ACTIONS.join(", ")}`, body.action);
  }
  const repository = object(source, body.repository, "repository");
  const repo = str(source, repository, "full_name", "repository");
  if (!isRepoName(repo)) throw malformed(source, "repository.full_name", '"owner/name"', repo);
  const job = object(source, body.workflow_job, "workflow_job");
  const installation =
    body.installation === undefined || body.installation === null
      ? undefined
      : int(source, object(source, body.installation, "installation"), "id", "installation");
  const org =
    body.organization === undefined || body.organization === null
      ? undefined
      : str(source, object(source, body.organization, "organization"), "login", "organization");
  return {
    action: body.action,
    job: {
      ...jobFields(source, job, "workflow_job"),
      repo,
      ...(installation === undefined ? {} : { installationId: installation }),
      ...(org === undefined ? {} : { org }),
    },
  };
}
