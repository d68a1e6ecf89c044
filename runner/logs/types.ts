/** Shapes of the per-job log store (`<logs.dir>/<jobId>/`). */

/** What the service knows of a job when it opens its log; every field but repo is optional. */
export interface JobMeta {
  /** owner/name */
  readonly repo: string;
  readonly runId?: number;
  readonly runAttempt?: number;
  readonly jobName?: string;
  readonly workflowName?: string;
  readonly labels?: readonly string[];
  readonly labelSet?: string;
  readonly sandboxId?: string;
  readonly runnerName?: string;
  readonly deliveryId?: string | null;
  readonly htmlUrl?: string;
  readonly headSha?: string;
  /** ISO 8601 times, or epoch milliseconds (stored as ISO). */
  readonly queuedAt?: string | number;
  readonly startedAt?: string | number;
  readonly finishedAt?: string | number;
}

/** meta.json as stored: the job's meta plus the store's own times (ISO 8601). */
export interface StoredJobMeta extends Omit<JobMeta, "queuedAt" | "startedAt" | "finishedAt"> {
  readonly jobId: string;
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly queuedAt?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

/** Text files, appended as the job runs. */
export type JobLogTextFile = "console.log" | "runner.log" | "egress.jsonl";
/** JSON files, each written whole (atomically: a reader never sees half a file). */
export type JobLogJsonFile = "meta.json" | "report.json" | "outcome.json";
export type JobLogFile = JobLogTextFile | JobLogJsonFile;

export const JOB_LOG_FILES: readonly JobLogFile[] = [
  "meta.json",
  "console.log",
  "runner.log",
  "egress.jsonl",
  "report.json",
  "outcome.json",
];

/**
 * outcome.json. The scheduler writes `{outcome, title, summary, record}`; only `outcome` is
 * required here, the rest is shown when present.
 */
export interface JobOutcomeFile {
  readonly outcome: string;
  readonly title?: string;
  readonly summary?: string;
  readonly finishedAt?: string | number;
  readonly [key: string]: unknown;
}

/** One job's log folder, open for writing. Never give it a secret: it goes to disk as is. */
export interface JobLog {
  readonly jobId: string;
  readonly dir: string;
  /** Append text to console.log (the guest's console), runner.log or egress.jsonl. */
  append(file: JobLogTextFile, text: string): void;
  /**
   * Write a JSON file whole. Secret-named keys are censored on the way (logger.ts SECRET_KEYS).
   * meta.json is merged into what is there (jobId and openedAt kept).
   */
  writeJson(file: JobLogJsonFile, value: unknown): void;
  appendConsole(text: string): void;
  appendRunner(text: string): void;
  /** One egress decision as one JSON line. */
  appendEgress(decision: object): void;
  writeReport(report: unknown): void;
  /** Marks the job finished: prune may remove it once it is older than the retention. */
  writeOutcome(outcome: JobOutcomeFile): void;
  updateMeta(patch: Partial<JobMeta>): void;
}

/** One row of `list()`. */
export interface JobLogSummary {
  readonly jobId: string;
  readonly repo?: string;
  readonly jobName?: string;
  readonly runId?: number;
  readonly openedAt?: string;
  readonly outcome?: string;
  readonly title?: string;
  /** Total bytes of the job's files. */
  readonly bytes: number;
}

/** What `read(jobId)` returns; files absent on disk are absent here. */
export interface JobLogRead {
  readonly jobId: string;
  readonly meta: StoredJobMeta | undefined;
  readonly files: {
    readonly console?: string;
    readonly runner?: string;
    /** egress.jsonl parsed; a torn last line (a crash mid-write) is left out. */
    readonly egress?: readonly Record<string, unknown>[];
    readonly report?: unknown;
    readonly outcome?: JobOutcomeFile;
  };
}

export interface JobLogStore {
  readonly dir: string;
  /** Create (or, after a restart, reopen) a job's folder and write meta.json. */
  open(jobId: string | number, meta: JobMeta): JobLog;
  /** Every job's folder, newest first. */
  list(): JobLogSummary[];
  /** Throws SBX_LOGS_NOT_FOUND when there is no such job. */
  read(jobId: string | number): JobLogRead;
  /** Remove finished jobs older than the retention; returns their ids. Open jobs are kept. */
  prune(): string[];
}
