/**
 * Logs area: the service's JSON-lines logger (pino, secrets censored), the field names every
 * line uses (STYLE H16), and the per-job log store behind `sandboxed logs`.
 */
export {
  createLogger,
  jobLogger,
  scrubSecrets,
  LOG_LEVELS,
  REDACT_PATHS,
  REDACTED,
} from "./logger.js";
export type { Logger, LoggerOptions, LogLevel } from "./logger.js";
export {
  FIELD,
  EGRESS_DECISION_MSG,
  JOB_DECISION_MSG,
  JOB_DECISIONS,
  logJobDecision,
} from "./fields.js";
export type { DecisionLog, FieldName, JobDecision, JobKeys } from "./fields.js";
export { checkJobId, createJobLogStore } from "./job-log-store.js";
export type { JobLogStoreOptions } from "./job-log-store.js";
export { JOB_LOG_SECTIONS, renderJobLog, renderJobLogList } from "./render.js";
export type { JobLogSection, RenderJobLogOptions } from "./render.js";
export { JOB_LOG_FILES } from "./types.js";
export type {
  JobLog,
  JobLogFile,
  JobLogJsonFile,
  JobLogRead,
  JobLogStore,
  JobLogSummary,
  JobLogTextFile,
  JobMeta,
  JobOutcomeFile,
  StoredJobMeta,
} from "./types.js";
