/**
 * Public shapes of the GitHub emulator, a TEST STAND-IN for GitHub's servers (see index.ts).
 */

export type EmulatorListen = { host: string; port: number } | { path: string };

export interface EmulatorOptions {
  /** TCP `{host, port}` (port 0 = any free port) or a unix socket `{path}`. */
  readonly listen: EmulatorListen;
  /**
   * The base URL written into JIT blobs as `serverUrl`: what the runner (in a guest, through the
   * sandbox's proxy) dials, e.g. `http://github.test`. Default: the emulator's own URL.
   */
  readonly publicUrl?: string;
  /** Where `workflow_job` webhooks go; `socketPath` sends them over a unix socket instead. */
  readonly webhook?: { url: string; secret: string; socketPath?: string };
  /** Makes this a GitHub App installation: App JWTs and installation tokens are accepted. */
  readonly app?: { appId: number; installationId: number; publicKeyPem?: string };
  /** A personal access token the REST API accepts. */
  readonly token?: string;
  /** Check every REST response against @octokit/openapi (default true). */
  readonly validate?: boolean;
  /**
   * What `DELETE …/actions/runners/{id}` does to a busy runner. "fail-job" (default) removes it
   * and fails its job, as GitHub eventually does once the runner is gone; "refuse" answers 422
   * "Runner … is still running a job", as GitHub does while the runner is still connected.
   */
  readonly busyRunnerDelete?: "fail-job" | "refuse";
  /** Seconds from now written into `x-ratelimit-reset` of injected rate-limit replies (default 1). */
  readonly rateLimitResetSeconds?: number;
  /** Clock, for timestamps only (default Date.now). */
  readonly now?: () => number;
}

export interface RepoOptions {
  readonly defaultBranch?: string;
  /** Path → content on the default branch. */
  readonly files?: Readonly<Record<string, string>>;
  readonly ownerType?: "Organization" | "User";
}

export interface QueueRunOptions {
  readonly jobs: readonly { name: string; labels: readonly string[]; script: string }[];
  readonly headSha?: string;
  readonly workflowName?: string;
}

export type JobStatus = "queued" | "in_progress" | "completed";

// The records below use GitHub's own field names (snake_case, ISO 8601 timestamps), so a test
// reads them as it would read the REST API; emulator-only extras are plain words (repo, script,
// log, target, payload).

export interface EmulatedJob {
  readonly id: number;
  readonly run_id: number;
  /** "owner/name". */
  readonly repo: string;
  readonly name: string;
  readonly workflow_name: string;
  readonly labels: readonly string[];
  readonly script: string;
  readonly head_sha: string;
  readonly status: JobStatus;
  readonly conclusion: string | null;
  readonly runner_id: number | null;
  readonly runner_name: string | null;
  readonly created_at: string;
  readonly started_at: string | null;
  readonly completed_at: string | null;
  /** Everything the runner posted to /_runner/jobs/{id}/log. */
  readonly log: string;
}

export type RunnerTarget = { repo: string } | { org: string };

export interface EmulatedRunner {
  readonly id: number;
  readonly name: string;
  readonly labels: readonly string[];
  readonly target: RunnerTarget;
  readonly runner_group_id: number;
  readonly status: "online" | "offline";
  readonly busy: boolean;
  readonly ephemeral: true;
  readonly job_id: number | null;
  readonly created_at: string;
}

export interface EmulatedCheckRun {
  readonly id: number;
  readonly repo: string;
  readonly head_sha: string;
  readonly name: string;
  readonly status: string;
  readonly conclusion: string | null;
  readonly details_url: string | null;
  readonly external_id: string | null;
  readonly output: { title?: string; summary?: string; text?: string };
  readonly annotations: readonly Record<string, unknown>[];
}

export interface EmulatedStatus {
  readonly id: number;
  readonly repo: string;
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string | null;
  readonly target_url: string | null;
}

/** One delivery attempt, as GET /app/hook/deliveries/{id} shows it, plus the job it was about. */
export interface Delivery {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string | null;
  readonly job_id: number;
  readonly delivered_at: string;
  readonly redelivery: boolean;
  /** The receiver's HTTP status; 502 for `webhooks.drop(true)`, 0 when nothing answered. */
  readonly status_code: number;
  /** "OK", "Invalid HTTP Response: 401", "failed to connect to host"… */
  readonly status: string;
  /** Seconds. */
  readonly duration: number;
  readonly installation_id: number | null;
  readonly repository_id: number | null;
  readonly payload: Record<string, unknown>;
}

export type FaultReply = 500 | 502 | 503 | "rate-limit" | "secondary-rate-limit";

export interface FaultRule {
  readonly method?: string;
  /** A string matches the request's path (no query) exactly; a RegExp is tested against it. */
  readonly path: string | RegExp;
  readonly reply: FaultReply;
  readonly times: number;
}

export interface EmulatorRequest {
  readonly method: string;
  /** Path and query as sent. */
  readonly path: string;
  /** The OpenAPI path template it matched, e.g. `/repos/{owner}/{repo}/actions/runs`. */
  readonly route: string | undefined;
  readonly status: number;
  readonly auth: "none" | "token" | "installation" | "app" | "bad";
  /** The parsed JSON request body, if any. */
  readonly body: unknown;
  readonly fault: boolean;
  readonly at: number;
}

export interface Violation {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly problems: readonly string[];
}

export interface GithubEmulator {
  /** The REST base URL (`http://host:port`), or `publicUrl` when listening on a unix socket. */
  readonly url: string;
  readonly publicUrl: string;
  addRepo(fullName: string, options?: RepoOptions): void;
  queueRun(repo: string, options: QueueRunOptions): { runId: number; jobIds: number[] };
  cancelJob(id: number): void;
  jobs(): EmulatedJob[];
  /** What the runner posted as this job's log ("" if none). */
  jobLog(id: number): string;
  /** Runners still registered. */
  runners(): EmulatedRunner[];
  checkRuns(): EmulatedCheckRun[];
  statuses(): EmulatedStatus[];
  deliveries(): Delivery[];
  /** The most jobs ever in_progress at the same time. */
  maxConcurrentRunning(): number;
  readonly faults: { add(rule: FaultRule): void; clear(): void };
  readonly webhooks: {
    drop(on: boolean): void;
    /** Sends a recorded delivery again (same GUID, `redelivery: true`); by id or GUID. */
    resend(delivery: number | string): Promise<Delivery>;
    /** Resolves once every delivery queued so far was sent or recorded as failed. */
    idle(): Promise<void>;
  };
  requests(): EmulatorRequest[];
  violations(): Violation[];
  /** Resolves when `check()` holds, re-checked on every state change; rejects after timeoutMs. */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}
