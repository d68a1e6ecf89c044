/**
 * What the webhook listener answers (pure). Evaluation order, each step before any work of the
 * next:
 *
 * 1. method: only POST (405);
 * 2. the job-origin header: a request that went through a sandbox's egress proxy carries
 *    `X-Sandboxed-Job`, and a job must not start jobs (403), so it is refused before its body
 *    is read;
 * 3. size: over 25 MiB (GitHub's own cap on payloads) is refused (413), by Content-Length first;
 * 4. signature: `X-Hub-Signature-256` checked in constant time against the raw body (401);
 * 5. form: JSON, with `X-GitHub-Event` and `X-GitHub-Delivery` (400, saying what is wrong);
 * 6. event and action: anything but a known `workflow_job` action is taken and ignored (202);
 * 7. the job's fields (400 naming the field);
 * 8. a delivery id already seen is a duplicate (200, ignored); else accepted (202), and the job
 *    is handed over after the answer is sent (GitHub wants one within 10 s).
 */
import { isSandboxedError } from "../errors/index.js";
import type { WebhookAction } from "./map-job.js";
import { isWebhookAction, jobFromWebhook } from "./map-job.js";
import type { WorkflowJob } from "./types.js";

/** The header the egress proxy adds to every request a sandbox makes (network's JOB_HEADER). */
export const JOB_ORIGIN_HEADER = "X-Sandboxed-Job";

/** GitHub caps webhook payloads at 25 MB; anything larger is not from GitHub. */
export const MAX_WEBHOOK_BYTES = 25 * 1024 * 1024;

export type WebhookReason =
  | "method-not-allowed"
  | "job-origin"
  | "too-large"
  | "bad-signature"
  | "malformed"
  | "ignored-event"
  | "ignored-action"
  | "duplicate"
  | "accepted";

/** The refusals made on the request line and headers alone. */
export type EarlyReason = Extract<WebhookReason, "method-not-allowed" | "job-origin" | "too-large">;

/** The one place reasons become HTTP statuses (STYLE H6). */
export const WEBHOOK_STATUS: Readonly<Record<WebhookReason, number>> = {
  "method-not-allowed": 405,
  "job-origin": 403,
  "too-large": 413,
  "bad-signature": 401,
  malformed: 400,
  "ignored-event": 202,
  "ignored-action": 202,
  duplicate: 200,
  accepted: 202,
};

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Steps 1-3, on the request line and headers alone. */
export function decideBeforeBody(
  method: string | undefined,
  headers: Headers,
  maxBytes: number,
): EarlyReason | undefined {
  if (method !== "POST") return "method-not-allowed";
  if (header(headers, JOB_ORIGIN_HEADER) !== undefined) return "job-origin";
  const length = Number(header(headers, "content-length"));
  if (Number.isFinite(length) && length > maxBytes) return "too-large";
  return undefined;
}

/** The signature header, when there is one of the right form ("sha256=" + 64 hex digits). */
export function signatureOf(headers: Headers): string | undefined {
  const value = header(headers, "x-hub-signature-256");
  return value !== undefined && /^sha256=[0-9a-f]{64}$/i.test(value) ? value : undefined;
}

export type ParsedDelivery =
  | { readonly reason: "malformed"; readonly message: string; readonly deliveryId?: string }
  | { readonly reason: "ignored-event"; readonly event: string; readonly deliveryId: string }
  | { readonly reason: "ignored-action"; readonly action: string; readonly deliveryId: string }
  | {
      readonly reason: "job";
      readonly deliveryId: string;
      readonly action: WebhookAction;
      readonly job: WorkflowJob;
    };

/** Steps 5-7, on a body whose signature holds. */
export function parseDelivery(headers: Headers, body: string): ParsedDelivery {
  const deliveryId = header(headers, "x-github-delivery");
  if (!deliveryId)
    return { reason: "malformed", message: "the X-GitHub-Delivery header is missing" };
  const event = header(headers, "x-github-event");
  if (!event) {
    return { reason: "malformed", message: "the X-GitHub-Event header is missing", deliveryId };
  }
  const type = header(headers, "content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    return {
      reason: "malformed",
      message: `content type ${JSON.stringify(type)} is not application/json (set the webhook's content type to application/json)`,
      deliveryId,
    };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch (error) {
    return {
      reason: "malformed",
      message: `the body is not JSON: ${(error as Error).message}`,
      deliveryId,
    };
  }
  if (event !== "workflow_job") return { reason: "ignored-event", event, deliveryId };
  const action = (payload as { action?: unknown } | null)?.action;
  if (typeof action === "string" && !isWebhookAction(action)) {
    return { reason: "ignored-action", action, deliveryId };
  }
  try {
    const { action: known, job } = jobFromWebhook(payload);
    return { reason: "job", deliveryId, action: known, job };
  } catch (error) {
    if (!isSandboxedError(error)) throw error;
    return { reason: "malformed", message: error.message, deliveryId };
  }
}
