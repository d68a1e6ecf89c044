/**
 * GitHub area (issue 6): the REST client (jobs, JIT runners, reports, redelivery) and the
 * workflow_job webhook handler. Depends on errors and logs only.
 */
export { createGithubClient } from "./client.js";
export { createWebhookHandler } from "./webhook.js";
export type { WebhookHandler, WebhookHandlerOptions } from "./webhook.js";
export { JOB_ORIGIN_HEADER, MAX_WEBHOOK_BYTES } from "./webhook-decide.js";
export type { WebhookAction } from "./map-job.js";
export { createSecret } from "./secret.js";
export type {
  Annotation,
  AnnotationLevel,
  GithubAuth,
  GithubClient,
  GithubClientOptions,
  GithubLog,
  JitConfig,
  JitOptions,
  JobConclusion,
  JobReport,
  RunnerInfo,
  Scope,
  Secret,
  Target,
  WorkflowJob,
  WorkflowJobStatus,
} from "./types.js";
