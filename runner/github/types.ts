/** Shapes of the GitHub area (issue 6): what the scheduler and cli see of GitHub. */

import type { Secret } from "../config/index.js";

/** A JIT runner config, a token, a webhook secret: printed only as "[redacted]". */
export type { Secret };

/** Where runners are registered and JIT configs generated. */
export type Target = { readonly repo: string } | { readonly org: string };

/** What the service serves: listed repositories, or every repository of an organization. */
export type Scope =
  { readonly repositories: readonly string[] } | { readonly organization: string };

export type WorkflowJobStatus = "queued" | "in_progress" | "completed" | "waiting";

/** One job of a workflow run, from a `workflow_job` webhook or the REST API. */
export interface WorkflowJob {
  readonly id: number;
  readonly runId: number;
  /** 1 for a run's first attempt; older webhook payloads omit it and get 1. */
  readonly runAttempt: number;
  /** "owner/name". */
  readonly repo: string;
  readonly name: string;
  /** "" when GitHub does not say (older payloads). */
  readonly workflowName: string;
  /** The job's `runs-on` labels, as written. */
  readonly labels: readonly string[];
  readonly headSha: string;
  readonly status: WorkflowJobStatus;
  readonly conclusion: string | null;
  readonly runnerName: string | null;
  /** "" when GitHub does not say. */
  readonly htmlUrl: string;
  /** The App installation the job came through (webhooks, and REST listings as an App). */
  readonly installationId?: number;
  /** The repository's organization, when it has one. */
  readonly org?: string;
}

export interface RunnerInfo {
  readonly id: number;
  readonly name: string;
  readonly busy: boolean;
  readonly status: string;
}

export interface JitConfig {
  readonly runnerId: number;
  readonly runnerName: string;
  /** base64 JSON with the runner's RSA private key: hand it to the sandbox only. */
  readonly jitConfig: Secret;
}

export interface JitOptions {
  /** Unique among the target's runners, or GitHub answers 409. */
  readonly name: string;
  readonly labels: readonly string[];
  /** Org targets only; repository runners always go to group 1 (a repository has no groups). */
  readonly runnerGroupId?: number;
  readonly workFolder?: string;
}

export type AnnotationLevel = "notice" | "warning" | "failure";

export interface Annotation {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
  readonly level: AnnotationLevel;
  readonly message: string;
  readonly title?: string;
}

export type JobConclusion = "success" | "failure" | "cancelled";

export interface JobReport {
  /** The check run's name, or the commit status's context. */
  readonly name: string;
  readonly conclusion: JobConclusion;
  readonly title: string;
  /** Markdown; cut to GitHub's 65535 characters with a note. Commit statuses show only the title. */
  readonly summary: string;
  readonly annotations?: readonly Annotation[];
  readonly detailsUrl?: string;
}

/** Structural subset of a pino logger, so any pino.Logger fits. */
export interface GithubLog {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type GithubAuth =
  | {
      readonly kind: "app";
      readonly appId: number;
      readonly privateKey: string | Secret;
      /** Looked up per repository or organization (and cached) when absent. */
      readonly installationId?: number;
    }
  | { readonly kind: "token"; readonly token: string | Secret };

export interface GithubClientOptions {
  /** https://api.github.com, a GHES /api/v3 URL, or the test emulator's URL. */
  readonly apiUrl: string;
  readonly auth: GithubAuth;
  readonly log?: GithubLog;
  /** Retries of a 5xx reply, and of a rate-limited one; default 3. */
  readonly retries?: number;
  /** Unit of the backoff: retry n waits n² × this after a 5xx, GitHub's wait × this/1000 s after
   * a rate limit. Default 1000 (tests pass 1). */
  readonly minRetryDelayMs?: number;
  /** Spacing of POST/PATCH/PUT/DELETE requests (GitHub's guidance: 1 s). Default 1000. */
  readonly minWriteIntervalMs?: number;
  /** Every GitHub reply with status >= 400 except 404, retried ones included; 0 = no reply. */
  readonly onApiError?: (status: number) => void;
}

export interface GithubClient {
  /** Jobs with status queued of the scope's runs that are queued or in progress. */
  listQueuedJobs(scope: Scope): Promise<WorkflowJob[]>;
  /** undefined when GitHub has no such job (404). */
  getJob(repo: string, jobId: number): Promise<WorkflowJob | undefined>;
  generateJitConfig(target: Target, options: JitOptions): Promise<JitConfig>;
  /** A runner that is already gone (404) is fine. */
  deleteRunner(target: Target, runnerId: number): Promise<void>;
  listRunners(target: Target, options: { namePrefix: string }): Promise<RunnerInfo[]>;
  /** The file's text on the default branch; undefined when there is none (404). */
  readRepoFile(repo: string, path: string): Promise<string | undefined>;
  /** A completed check run as an App, a commit status with a token. */
  reportJob(repo: string, headSha: string, report: JobReport): Promise<void>;
  /**
   * App only (0 with a token): asks GitHub to redeliver every workflow_job delivery made at or
   * after `sinceMs` (epoch ms) that failed and has not succeeded since. Returns how many.
   */
  redeliverFailed(sinceMs: number): Promise<number>;
}
