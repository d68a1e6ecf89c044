import type { EgressDecisionLog } from "../network/index.js";
import type { ResolvedPolicy } from "../policy/index.js";

/** One command the job runs, as the job user, in the workspace. */
export interface JobStep {
  readonly name: string;
  /** argv; a shell step is ["bash", "-e", "script"] and so on. */
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Relative to the workspace. */
  readonly workingDirectory?: string;
}

export interface JobSpec {
  readonly steps: readonly JobStep[];
  readonly env?: Readonly<Record<string, string>>;
  /** Files placed in the workspace before the first step (path relative to it). */
  readonly files?: readonly {
    readonly path: string;
    readonly content: Uint8Array;
    readonly mode?: number;
  }[];
  /** Host folders copied into the workspace before the first step (the repository's tree). */
  readonly directories?: readonly {
    readonly source: string;
    readonly path: string;
    /** Copy only these entries (relative to source, folders listed before their files). */
    readonly only?: readonly string[];
  }[];
  /** Stop at the first failing step (default true). */
  readonly stopOnFailure?: boolean;
  /**
   * Drive the job step by step once the sandbox is ready (the workflow engine): each exec runs
   * as the job user, its output goes only to the caller (which masks secrets before anything is
   * shown), and the driver's verdict is the job's outcome unless a cap was breached first.
   */
  readonly drive?: JobDriver;
}

export interface ExecRequest {
  readonly name: string;
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Absolute, or relative to the workspace. */
  readonly workingDirectory?: string;
  /** Text written to standard input, then closed. */
  readonly stdin?: string;
  /** Kill the command's processes after this long (a step's timeout-minutes). */
  readonly timeoutMs?: number;
  /** Kill them when this aborts (the run was cancelled). */
  readonly signal?: AbortSignal;
}

export interface ExecResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
  readonly timedOut: boolean;
}

export interface JobControl {
  exec(
    request: ExecRequest,
    onOutput?: (stream: "stdout" | "stderr", text: string) => void,
  ): Promise<ExecResult>;
}

export type JobDriver = (control: JobControl) => Promise<"success" | "failure">;

export type BreachKind = "memory" | "disk" | "timeout" | "pids";

export interface Breach {
  readonly kind: BreachKind;
  /** Human-readable: `memory limit 512MiB exceeded`. */
  readonly message: string;
  readonly limit: number;
}

export type Outcome = "success" | "failure" | "limit" | "infrastructure";

export interface StepResult {
  readonly name: string;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly durationMs: number;
}

export interface ResourcePeaks {
  readonly memoryBytes?: number;
  readonly diskBytes?: number;
  readonly pids?: number;
  readonly cpuSeconds?: number;
}

export interface SandboxReport {
  readonly id: string;
  readonly backend: string;
  readonly outcome: Outcome;
  /** Exit status for a CLI: see EXIT_STATUS. */
  readonly exitStatus: number;
  readonly breach?: Breach;
  readonly steps: readonly StepResult[];
  readonly peaks: ResourcePeaks;
  readonly limits: {
    readonly cpus: number;
    readonly memoryBytes: number;
    readonly diskBytes: number;
    readonly pids: number;
    readonly timeoutSeconds: number;
  };
  readonly timings: {
    readonly bootMs?: number;
    readonly totalMs: number;
    readonly destroyMs?: number;
  };
  readonly error?: string;
  /** Every egress decision of the job (absent with network.mode none). */
  readonly egress?: {
    readonly mode: string;
    readonly allowed: number;
    readonly denied: number;
    readonly decisions: readonly EgressDecisionLog[];
    /** Packets dropped on the host side before any proxy saw them, by nftables rule comment. */
    readonly droppedPackets?: Readonly<Record<string, number>>;
  };
}

/** Events streamed while a job runs. */
export type SandboxEvent =
  | {
      readonly type: "phase";
      readonly phase: "create" | "boot" | "ready" | "collect" | "destroy";
      /** Why a phase repeats (a boot that stalled is retried once on fresh disks). */
      readonly detail?: string;
    }
  | { readonly type: "step-start"; readonly index: number; readonly name: string }
  | {
      readonly type: "output";
      readonly index: number;
      readonly stream: "stdout" | "stderr";
      readonly text: string;
    }
  | { readonly type: "step-end"; readonly index: number; readonly result: StepResult }
  | { readonly type: "console"; readonly text: string }
  | { readonly type: "egress"; readonly decision: EgressDecisionLog };

export interface SandboxOptions {
  readonly id: string;
  readonly policy: ResolvedPolicy;
  readonly stateDir: string;
  readonly onEvent?: (event: SandboxEvent) => void;
}

/** A sandbox runs one job and is destroyed; destroy() is idempotent and always reached. */
export interface Sandbox {
  readonly id: string;
  run(job: JobSpec): Promise<SandboxReport>;
  destroy(): Promise<void>;
}

/**
 * Exit statuses, distinct per reason, so scripts can tell a failing build from a limit.
 * 1 is a failing step, as with any runner.
 */
export const EXIT_STATUS = {
  success: 0,
  failure: 1,
  memory: 3,
  disk: 4,
  timeout: 5,
  pids: 6,
  infrastructure: 70,
} as const;
