/**
 * Log field names and the canonical decision lines (STYLE H16).
 *
 * Every service log line about a job carries `deliveryId` and `jobId`, as terraform-aws-github-
 * runner's lambdas keep persistent keys: `jq 'select(.jobId == 123)'` then finds all of a job's
 * story, from the webhook to cleanup. A job found by the reconcile loop or after a restart has no
 * webhook delivery: its lines carry `deliveryId: null`, never an absent key.
 *
 * There is exactly one canonical line per job decision (`msg: "CANONICAL-JOB-DECISION"`), as
 * smokescreen writes one `CANONICAL-PROXY-DECISION` line per egress decision, so a dashboard or
 * an alert counts decisions without parsing free text.
 */

/** Field names. Use these, not string literals, so a rename is one edit and `jq` filters hold. */
export const FIELD = {
  /** `X-GitHub-Delivery` of the webhook that brought the job; null when none did. */
  deliveryId: "deliveryId",
  /** GitHub's workflow job id (unique per attempt). */
  jobId: "jobId",
  runId: "runId",
  runAttempt: "runAttempt",
  /** owner/name */
  repo: "repo",
  jobName: "jobName",
  workflowName: "workflowName",
  labels: "labels",
  labelSet: "labelSet",
  runnerName: "runnerName",
  runnerId: "runnerId",
  sandboxId: "sandboxId",
  backend: "backend",
  /** One of JOB_DECISIONS on canonical lines. */
  decision: "decision",
  /** Why: a closed reason where the deciding code has one (label match, capacity, policy). */
  reason: "reason",
  /** How the job ended (the scheduler's JobOutcome). */
  outcome: "outcome",
  /** What webhooks or the reconcile loop said of the job: queued, in_progress, completed. */
  action: "action",
  /** How the job reached the service: webhook, reconcile, restart. */
  via: "via",
  queueToStartMs: "queueToStartMs",
  durationMs: "durationMs",
  /** HTTP status of a GitHub API reply or of our own answer. */
  status: "status",
  method: "method",
  path: "path",
  /** A serialised error (pino's err serializer). */
  err: "err",
} as const;

export type FieldName = (typeof FIELD)[keyof typeof FIELD];

/** `msg` of the one line per job decision. */
export const JOB_DECISION_MSG = "CANONICAL-JOB-DECISION";
/** `msg` of the one line per egress decision, when the service logs them (also in egress.jsonl). */
export const EGRESS_DECISION_MSG = "CANONICAL-EGRESS-DECISION";

/**
 * What the service decided about a job, in the order a job meets them:
 *
 * - `ignored`       its labels match no label set, or its repository is out of scope
 * - `duplicate`     a delivery or job id the service already holds
 * - `accepted`      queued for a sandbox
 * - `cancelled`     cancelled on GitHub before a runner took it
 * - `refused`       a host hook, the ceilings or the host's capacity said no
 * - `provisioned`   runner registered and sandbox created
 * - `started`       the runner inside took the job
 * - `idle_timeout`  the runner took no job before the idle deadline; sandbox and runner removed
 * - `finished`      the job ended; `outcome` says how
 * - `recovered`     found in the state dir after a restart; cleaned up and reported
 */
export const JOB_DECISIONS = [
  "ignored",
  "duplicate",
  "accepted",
  "cancelled",
  "refused",
  "provisioned",
  "started",
  "idle_timeout",
  "finished",
  "recovered",
] as const;

export type JobDecision = (typeof JOB_DECISIONS)[number];

/** The keys every job line carries. */
export interface JobKeys {
  readonly deliveryId: string | null;
  readonly jobId: number | string;
}

/** What logJobDecision needs of a logger (pino's Logger fits). */
export interface DecisionLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * Write the canonical line of one job decision. `refused` and `recovered` are warnings (someone
 * may want to look); the rest are info.
 */
export function logJobDecision(
  log: DecisionLog,
  keys: JobKeys,
  decision: JobDecision,
  fields: Record<string, unknown> = {},
): void {
  const line = {
    ...fields,
    [FIELD.deliveryId]: keys.deliveryId,
    [FIELD.jobId]: keys.jobId,
    [FIELD.decision]: decision,
  };
  if (decision === "refused" || decision === "recovered") log.warn(line, JOB_DECISION_MSG);
  else log.info(line, JOB_DECISION_MSG);
}
