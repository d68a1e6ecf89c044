import type { ResolvedPolicy } from "../policy/index.js";
import type { SandboxEvent, SandboxReport } from "../sandbox/index.js";

/** A queued job as its source (GitHub) describes it; the scheduler knows nothing more of GitHub. */
export interface SourceJob {
  readonly id: number;
  /** owner/name */
  readonly repo: string;
  readonly runId: number;
  readonly runAttempt: number;
  readonly name: string;
  readonly workflowName: string;
  /** The job's `runs-on` labels. */
  readonly labels: readonly string[];
  readonly headSha: string;
  readonly htmlUrl: string;
  /** Set when the source registers runners at the organization. */
  readonly org?: string;
}

/** A secret handed to the guest and nowhere else: printing it gives "[redacted]". */
export interface Secret {
  reveal(): string;
}

export interface RunnerRegistration {
  readonly runnerId: number;
  readonly runnerName: string;
  readonly jitConfig: Secret;
}

/** What the job ended as, seen from the host. */
export type JobOutcome =
  | "success"
  | "failure"
  | "cancelled"
  | "limit"
  | "infrastructure"
  /** The runner took no job before the idle deadline (another runner took it, or it was cancelled). */
  | "idle"
  /** Refused before any sandbox: policy over the ceilings, a host hook said no, too big. */
  | "refused";

export interface JobResult {
  readonly outcome: JobOutcome;
  /** One line: "memory limit 4GiB exceeded", "infrastructure_error: …". */
  readonly title: string;
  /** Markdown: policy, resources, egress, steps. */
  readonly summary: string;
  readonly report?: SandboxReport;
}

/** The job queue's other end (GitHub, through the cli's wiring). */
export interface JobSource {
  /** Every job waiting for a runner in the scope (the reconcile pass). */
  listQueued(): Promise<readonly SourceJob[]>;
  /** Is this job still waiting? (a cancelled job whose webhook was lost is not) */
  isQueued(job: SourceJob): Promise<boolean>;
  createRunner(
    job: SourceJob,
    runner: { readonly name: string; readonly labels: readonly string[] },
  ): Promise<RunnerRegistration>;
  /** Already gone is fine. */
  deleteRunner(job: SourceJob, runnerId: number): Promise<void>;
  /** Runners whose name starts with the prefix, in every target this source registers at. */
  listRunners(
    prefix: string,
  ): Promise<readonly { id: number; name: string; busy: boolean; job?: SourceJob }[]>;
  /** The check run or commit status that tells the repository what the sandbox saw. */
  report(job: SourceJob, result: JobResult): Promise<void>;
  /** Ask the source to resend webhooks that failed since then (GitHub App only). */
  redeliver?(sinceMs: number): Promise<number>;
}

export interface LabelSet {
  readonly name: string;
  readonly labels: readonly string[];
  /** The sandbox backend the label set runs on (vm or container), for the job log's summary. */
  readonly backend?: string;
}

/** A job's durable record: written before every step that creates something. */
export interface JobRecord {
  readonly job: SourceJob;
  readonly labelSet: string;
  readonly state: "queued" | "starting" | "running" | "done";
  readonly queuedAt: number;
  readonly via: "webhook" | "reconcile" | "restart";
  readonly deliveryId?: string;
  readonly runnerName?: string;
  readonly runnerId?: number;
  readonly sandboxId?: string;
  readonly startedAt?: number;
  readonly readyAt?: number;
  readonly takenAt?: number;
  readonly finishedAt?: number;
  readonly outcome?: JobOutcome;
  readonly title?: string;
}

/** The per-job log the scheduler writes into (the logs area implements it). */
export interface JobLogSink {
  append(file: "console.log" | "runner.log" | "egress.jsonl", text: string): void;
  writeJson(file: "report.json" | "outcome.json" | "meta.json", value: unknown): void;
}

export interface SchedulerMetrics {
  jobFinished(outcome: JobOutcome): void;
  queueToStart(seconds: number): void;
  sandboxesLive(n: number): void;
  egressDenied(n: number): void;
  limitBreached(kind: string): void;
}

export interface SandboxRequest {
  readonly id: string;
  readonly job: SourceJob;
  readonly labelSet: string;
  readonly policy: ResolvedPolicy;
  readonly onEvent: (event: SandboxEvent) => void;
}

export interface SchedulerLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
