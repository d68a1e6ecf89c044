/**
 * Sandbox area: the interface every backend implements (types.ts), crash-safe resource records,
 * host cgroups, and cleanup (`gc`). Backends live in vm/ and container/.
 */
export type {
  Breach,
  BreachKind,
  ExecRequest,
  ExecResult,
  JobControl,
  JobDriver,
  JobSpec,
  JobStep,
  Outcome,
  ResourcePeaks,
  Sandbox,
  SandboxEvent,
  SandboxOptions,
  SandboxReport,
  StepResult,
} from "./types.js";
export { EXIT_STATUS } from "./types.js";
export { collectGarbage, destroyRecorded, removeAll, removeResource } from "./cleanup.js";
export type { GcReport } from "./cleanup.js";
export {
  createJournal,
  listSandboxes,
  openJournal,
  processStartTime,
  sandboxDir,
} from "./records.js";
export type { Journal, ResourceRecord } from "./records.js";
export { addProcess, cgroupLayout, cgroupStats, createCgroup } from "./cgroup.js";
export type { CgroupLayout, CgroupLimits, CgroupStats } from "./cgroup.js";
export { breachMessage } from "./breach.js";
export { createJobState } from "./job-state.js";
export type { JobState } from "./job-state.js";
export { formatWorkspace, stageWorkspace } from "./workspace.js";
export type { JobUser } from "./workspace.js";
export { agentLineReader } from "./agent-lines.js";
export type { AgentLineReader } from "./agent-lines.js";
export { breachOf, composeReport } from "./report.js";
export type { ReportInput } from "./report.js";
export { jobConfig } from "./job-config.js";
