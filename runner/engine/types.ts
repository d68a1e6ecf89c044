/**
 * What the engine reports while it runs and after: events for live logs (already masked), and
 * the job and run reports behind the table, the JSON report and the exit status.
 */
import type { SandboxEvent, SandboxReport } from "../sandbox/index.js";
import type { Annotation } from "./command-outcome.js";

export type { Annotation } from "./command-outcome.js";

/** GitHub's words: a step's outcome is before continue-on-error, its conclusion after. */
export type StepConclusion = "success" | "failure" | "cancelled" | "skipped";
export type JobResult = "success" | "failure" | "cancelled" | "skipped";

export interface StepReport {
  readonly id: string;
  readonly name: string;
  readonly outcome: StepConclusion;
  readonly conclusion: StepConclusion;
  readonly durationMs: number;
  readonly exitCode?: number | null;
  readonly timedOut?: boolean;
  /** Why it failed when no exit code says it: an expression error, a refused command. */
  readonly error?: string;
}

export interface JobReport {
  /** `build`, or `build (18, ubuntu)` for a matrix job. */
  readonly name: string;
  readonly id: string;
  readonly matrix?: Readonly<Record<string, unknown>>;
  readonly result: JobResult;
  readonly steps: readonly StepReport[];
  readonly outputs: Readonly<Record<string, string>>;
  readonly annotations: readonly Annotation[];
  /** GITHUB_STEP_SUMMARY of every step, in order (masked). */
  readonly summary: string;
  /** Where the time went: boot (create to ready), steps, teardown (collect and destroy). */
  readonly timings?: {
    readonly bootMs?: number;
    readonly stepsMs: number;
    readonly teardownMs: number;
    readonly totalMs: number;
  };
  /** The sandbox's own report: breach, peaks, limits, egress decisions, timings. */
  readonly sandbox?: SandboxReport;
  /** Why the job never ran its steps (infrastructure) or was skipped. */
  readonly error?: string;
}

export interface RunReport {
  readonly workflow: string;
  readonly file: string;
  readonly event: string;
  readonly result: JobResult;
  readonly jobs: readonly JobReport[];
  readonly durationMs: number;
}

export type EngineEvent =
  | { readonly type: "job-start"; readonly job: string; readonly policy: string }
  | { readonly type: "sandbox"; readonly job: string; readonly event: SandboxEvent }
  | {
      readonly type: "step-start";
      readonly job: string;
      readonly index: number;
      readonly name: string;
    }
  | {
      readonly type: "line";
      readonly job: string;
      readonly index: number;
      readonly stream: "stdout" | "stderr";
      /** One line, secrets masked, workflow commands consumed. */
      readonly text: string;
    }
  | { readonly type: "group"; readonly job: string; readonly title?: string }
  | { readonly type: "annotation"; readonly job: string; readonly annotation: Annotation }
  | {
      readonly type: "step-end";
      readonly job: string;
      readonly index: number;
      readonly step: StepReport;
    }
  | { readonly type: "job-end"; readonly job: string; readonly report: JobReport };
