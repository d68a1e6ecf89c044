/**
 * Scheduler area: the service's job queue. It takes jobs from a source (GitHub, wired by cli/),
 * matches them to label sets, bounds them by host capacity, runs each once in a fresh sandbox with
 * the official runner, and keeps durable records so a restart neither loses nor repeats a job.
 */
export { createScheduler } from "./scheduler.js";
export type { OfferResult, Scheduler, SchedulerOptions, SchedulerStatus } from "./scheduler.js";
export { DEFAULT_RUNNER_LABELS, matchLabelSet, runnerLabels } from "./match.js";
export type { MatchReason, MatchVerdict } from "./match.js";
export { createCapacity } from "./capacity.js";
export type { Capacity, Need } from "./capacity.js";
export { outcomeOf, resultOf } from "./job-result.js";
export { policySummary, runnerDrive, runnerSignal } from "./runner-job.js";
export type { GuestRunner, RunnerSignal } from "./runner-job.js";
export { hooksFor, runHooks } from "./host-hooks.js";
export { jobsDir, openJobStore } from "./store.js";
export type {
  JobLogSink,
  JobOutcome,
  JobRecord,
  JobResult,
  JobSource,
  LabelSet,
  RunnerRegistration,
  SandboxRequest,
  SchedulerLog,
  SchedulerMetrics,
  Secret,
  SourceJob,
} from "./types.js";
