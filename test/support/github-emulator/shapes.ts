/**
 * GitHub's REST objects, each built from the example GitHub publishes for it in its OpenAPI
 * description (a deep copy, moved onto our repository and URLs, then filled with the record's
 * own fields), so every field a client might read is there with the documented type.
 */
import { createHash } from "node:crypto";
import type { OpenApi } from "./openapi.js";
import type {
  CheckRunRecord,
  JobRecord,
  RepoRecord,
  RunRecord,
  RunnerRecord,
  State,
  StatusRecord,
} from "./state.js";
import type { DeliveryRecord } from "./webhooks.js";

type Json = Record<string, unknown>;

export interface Shapes {
  fullRepository(repo: RepoRecord): Json;
  minimalRepository(repo: RepoRecord): Json;
  repository(repo: RepoRecord): Json;
  workflowRun(run: RunRecord): Json;
  job(job: JobRecord): Json;
  runner(runner: RunnerRecord): Json;
  checkRun(check: CheckRunRecord): Json;
  status(status: StatusRecord): Json;
  installation(id: number, account: { login: string; id: number; type: string }): Json;
  installationToken(token: string, expiresAt: number): Json;
  contentFile(repo: RepoRecord, path: string, content: string, ref: string): Json;
  hookDeliveryItem(delivery: DeliveryRecord): Json;
  hookDelivery(delivery: DeliveryRecord, url: string): Json;
  user(login: string, id: number, type: string): Json;
}

/** GitHub's timestamps: ISO 8601 to the second, UTC. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Deep string replace, pair by pair: moves an example onto our repository, owner and URLs. */
export function moved(value: unknown, pairs: readonly [string, string][]): unknown {
  if (typeof value === "string") {
    return pairs.reduce((s, [from, to]) => (from === "" ? s : s.split(from).join(to)), value);
  }
  if (Array.isArray(value)) return value.map((v) => moved(v, pairs));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, moved(v, pairs)]));
  }
  return value;
}

/** Labels GitHub itself assigns a self-hosted runner are "read-only"; the rest "custom". */
const READ_ONLY_LABELS = new Set([
  "self-hosted",
  "linux",
  "x64",
  "arm64",
  "arm",
  "macos",
  "windows",
]);

export function createShapes(
  api: OpenApi,
  state: State,
  urls: { api: () => string; html: string },
  appId: number | undefined,
): Shapes {
  const onto = (value: unknown, fromRepo: string, repo: RepoRecord | undefined): Json => {
    const pairs: [string, string][] = [
      ["https://api.github.com", urls.api()],
      ["https://github.com", urls.html],
    ];
    if (repo !== undefined) {
      pairs.unshift([fromRepo, repo.fullName], [`${fromRepo.split("/")[0]}`, repo.owner]);
    }
    return moved(value, pairs) as Json;
  };
  const nodeId = (kind: string, id: number) => Buffer.from(`0${kind}${id}`).toString("base64");

  const user = (login: string, id: number, type: string): Json => {
    const actor = api.example<Json>("workflow-run").actor as Json;
    return {
      ...(moved(actor, [
        ["octocat", login],
        ["https://api.github.com", urls.api()],
        ["https://github.com", urls.html],
      ]) as Json),
      login,
      id,
      node_id: nodeId(type, id),
      type,
      site_admin: false,
    };
  };
  const owner = (repo: RepoRecord) => user(repo.owner, repo.ownerId, repo.ownerType);
  const repoFields = (repo: RepoRecord): Json => ({
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: owner(repo),
    private: true,
    visibility: "private",
    fork: false,
    default_branch: repo.defaultBranch,
    created_at: iso(repo.createdAt),
    updated_at: iso(repo.createdAt),
    pushed_at: iso(repo.createdAt),
  });
  const minimalRepository = (repo: RepoRecord): Json => {
    const example = api.example<Json[]>("minimal-repository-items")[0];
    const base = onto(example, "octocat/Hello-World", repo);
    delete base.template_repository;
    return { ...base, ...repoFields(repo) };
  };

  return {
    user,
    minimalRepository,

    fullRepository: (repo) => {
      const base = onto(
        api.example("full-repository-default-response"),
        "octocat/Hello-World",
        repo,
      );
      for (const k of ["parent", "source", "template_repository"]) delete base[k];
      const org = repo.ownerType === "Organization" ? { organization: owner(repo) } : {};
      if (repo.ownerType !== "Organization") delete base.organization;
      return { ...base, ...repoFields(repo), ...org, language: null };
    },

    repository: (repo) => {
      const example = api.example<{ repositories: Json[] }>("repository-paginated-2");
      const base = onto(example.repositories[0], "octocat/Hello-World", repo);
      delete base.template_repository;
      return { ...base, ...repoFields(repo) };
    },

    workflowRun: (run) => {
      const base = onto(api.example("workflow-run"), "octo-org/octo-repo", run.repo);
      const { status, conclusion } = state.runStatus(run);
      const runUrl = `${urls.api()}/repos/${run.repo.fullName}/actions/runs/${run.id}`;
      const actor = user("octocat", 1, "User");
      return {
        ...base,
        id: run.id,
        node_id: nodeId("WorkflowRun", run.id),
        name: run.workflowName,
        display_title: run.workflowName,
        head_branch: run.headBranch,
        head_sha: run.headSha,
        path: ".github/workflows/ci.yml",
        run_number: run.runNumber,
        run_attempt: 1,
        event: "push",
        status,
        conclusion,
        url: runUrl,
        html_url: `${urls.html}/${run.repo.fullName}/actions/runs/${run.id}`,
        jobs_url: `${runUrl}/jobs`,
        logs_url: `${runUrl}/logs`,
        cancel_url: `${runUrl}/cancel`,
        rerun_url: `${runUrl}/rerun`,
        artifacts_url: `${runUrl}/artifacts`,
        previous_attempt_url: null,
        pull_requests: [],
        referenced_workflows: [],
        created_at: iso(run.createdAt),
        updated_at: iso(run.updatedAt),
        run_started_at: iso(run.createdAt),
        actor,
        triggering_actor: actor,
        head_commit: { ...(base.head_commit as Json), id: run.headSha, tree_id: run.headSha },
        repository: minimalRepository(run.repo),
        head_repository: minimalRepository(run.repo),
      };
    },

    job: (job) => {
      const repo = job.run.repo;
      const base = onto(api.example("job"), "octo-org/octo-repo", repo);
      const url = `${urls.api()}/repos/${repo.fullName}/actions/jobs/${job.id}`;
      return {
        ...base,
        id: job.id,
        node_id: nodeId("WorkflowJob", job.id),
        run_id: job.run.id,
        run_attempt: 1,
        run_url: `${urls.api()}/repos/${repo.fullName}/actions/runs/${job.run.id}`,
        head_sha: job.run.headSha,
        head_branch: job.run.headBranch,
        workflow_name: job.run.workflowName,
        url,
        html_url: `${urls.html}/${repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
        check_run_url: `${urls.api()}/repos/${repo.fullName}/check-runs/${job.id}`,
        status: job.status,
        conclusion: job.conclusion,
        created_at: iso(job.createdAt),
        // GitHub sets started_at when the job is created and moves it when a runner takes it.
        started_at: iso(job.startedAt ?? job.createdAt),
        completed_at: job.completedAt === null ? null : iso(job.completedAt),
        name: job.name,
        steps: [],
        labels: [...job.labels],
        runner_id: job.runnerId,
        runner_name: job.runnerName,
        runner_group_id: job.runnerGroupId,
        runner_group_name: job.runnerGroupId === null ? null : "Default",
      };
    },

    runner: (runner) => ({
      ...api.example("runner"),
      id: runner.id,
      name: runner.name,
      os: "Linux",
      status: runner.status,
      busy: runner.jobId !== null,
      ephemeral: true,
      runner_group_id: runner.groupId,
      labels: runner.labels.map((name, i) => ({
        id: i + 1,
        name,
        type: READ_ONLY_LABELS.has(name.toLowerCase()) ? "read-only" : "custom",
      })),
    }),

    checkRun: (check) => {
      const base = onto(api.example("check-run"), "github/hello-world", check.repo);
      const url = `${urls.api()}/repos/${check.repo.fullName}/check-runs/${check.id}`;
      const app = base.app as Json;
      return {
        ...base,
        id: check.id,
        node_id: nodeId("CheckRun", check.id),
        head_sha: check.headSha,
        external_id: check.externalId ?? "",
        url,
        html_url: `${urls.html}/${check.repo.fullName}/runs/${check.id}`,
        details_url: check.detailsUrl,
        name: check.name,
        status: check.status,
        conclusion: check.conclusion,
        started_at: iso(check.startedAt),
        completed_at: check.completedAt === null ? null : iso(check.completedAt),
        output: {
          title: check.output.title ?? null,
          summary: check.output.summary ?? null,
          text: check.output.text ?? null,
          annotations_count: check.annotations.length,
          annotations_url: `${url}/annotations`,
        },
        check_suite: { id: check.id },
        app: { ...app, id: appId ?? app.id },
        pull_requests: [],
      };
    },

    status: (s) => {
      const base = onto(api.example("status"), "octocat/Hello-World", s.repo);
      return {
        ...base,
        id: s.id,
        node_id: nodeId("StatusContext", s.id),
        url: `${urls.api()}/repos/${s.repo.fullName}/statuses/${s.sha}`,
        state: s.state,
        description: s.description,
        target_url: s.targetUrl,
        context: s.context,
        created_at: iso(s.createdAt),
        updated_at: iso(s.createdAt),
      };
    },

    installation: (id, account) => {
      const base = onto(api.example("installation"), "", undefined);
      return {
        ...base,
        id,
        account: user(account.login, account.id, account.type),
        target_id: account.id,
        target_type: account.type,
        app_id: appId ?? base.app_id,
        access_tokens_url: `${urls.api()}/app/installations/${id}/access_tokens`,
        permissions: PERMISSIONS,
        events: ["workflow_job"],
      };
    },

    installationToken: (token, expiresAt) => {
      const base = api.example("installation-token");
      delete base.repositories;
      return {
        ...base,
        token,
        expires_at: iso(expiresAt),
        permissions: PERMISSIONS,
        repository_selection: "all",
      };
    },

    contentFile: (repo, path, content, ref) => {
      const base = onto(
        api.example("content-file-response-if-content-is-a-file"),
        "octokit/octokit.rb",
        repo,
      );
      const bytes = Buffer.from(content);
      const sha = createHash("sha1").update(`blob ${bytes.length}\0`).update(bytes).digest("hex");
      const self = `${urls.api()}/repos/${repo.fullName}/contents/${path}?ref=${ref}`;
      const git = `${urls.api()}/repos/${repo.fullName}/git/blobs/${sha}`;
      const html = `${urls.html}/${repo.fullName}/blob/${ref}/${path}`;
      return {
        ...base,
        type: "file",
        encoding: "base64",
        size: bytes.length,
        name: path.split("/").pop(),
        path,
        // GitHub wraps the base64 at 60 characters, with a trailing newline.
        content: `${(bytes.toString("base64").match(/.{1,60}/g) ?? []).join("\n")}\n`,
        sha,
        url: self,
        git_url: git,
        html_url: html,
        download_url: `${urls.api()}/raw/${repo.fullName}/${ref}/${path}`,
        _links: { self, git, html },
      };
    },

    hookDeliveryItem: (d) => ({
      id: d.id,
      guid: d.guid,
      delivered_at: iso(d.deliveredAt),
      redelivery: d.redelivery,
      duration: d.duration,
      status: d.status,
      status_code: d.statusCode,
      event: d.event,
      action: d.action,
      installation_id: d.installationId,
      repository_id: d.repositoryId,
      throttled_at: null,
    }),

    hookDelivery: (d, url) => ({
      ...api.example("hook-delivery"),
      id: d.id,
      guid: d.guid,
      delivered_at: iso(d.deliveredAt),
      redelivery: d.redelivery,
      duration: d.duration,
      status: d.status,
      status_code: d.statusCode,
      event: d.event,
      action: d.action,
      installation_id: d.installationId,
      repository_id: d.repositoryId,
      throttled_at: null,
      url,
      request: {
        headers: { "X-GitHub-Event": d.event, "X-GitHub-Delivery": d.guid },
        payload: d.payload,
      },
      response: { headers: {}, payload: null },
    }),
  };
}

/** What sandboxed's App installation is granted (research runner-managers.md §2.1). */
const PERMISSIONS = {
  actions: "read",
  administration: "write",
  checks: "write",
  contents: "read",
  metadata: "read",
  organization_self_hosted_runners: "write",
  statuses: "write",
};
