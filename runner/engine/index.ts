/**
 * The workflow engine: GitHub Actions semantics on top of @actions/workflow-parser and
 * @actions/expressions, driving one sandbox per job (issue 5).
 */
export { loadWorkflow, WorkflowError } from "./workflow.js";
export type {
  LoadedWorkflow,
  RunStep,
  UsesStep,
  WorkflowDiagnostic,
  WorkflowJob,
  WorkflowStep,
} from "./workflow.js";
export { planJobs } from "./plan.js";
export type { Plan, PlanOptions } from "./plan.js";
export { runWorkflow } from "./workflow-runner.js";
export type { JobInstance, RunWorkflowOptions } from "./workflow-runner.js";
export { createJobInstanceRunner } from "./run-job.js";
export type { JobRunnerDeps, RepoFacts } from "./run-job.js";
export { prepareActions } from "./prepare-actions.js";
export type { PreparedActions } from "./prepare-actions.js";
export { createActionCache } from "./action-fetch.js";
export type { ActionCache, ActionCacheOptions, EgressCheck } from "./action-fetch.js";
export { guestLayout } from "./guest-layout.js";
export type { GuestLayout } from "./guest-layout.js";
export { hashFilesOnHost } from "./hash-files.js";
export type {
  Annotation,
  EngineEvent,
  JobReport,
  JobResult,
  RunReport,
  StepConclusion,
  StepReport,
} from "./types.js";
