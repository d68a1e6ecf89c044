/**
 * The webhook listener's request handler: the order of checks and the status codes are in
 * webhook-decide.ts; this file reads the body, checks the signature and answers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Webhooks } from "@octokit/webhooks";
import { SandboxedError } from "../errors/index.js";
import { FIELD } from "../logs/index.js";
import { AUTH } from "./errors.js";
import type { WebhookAction } from "./map-job.js";
import { revealed } from "./secret.js";
import type { GithubLog, Secret, WorkflowJob } from "./types.js";
import type { EarlyReason, WebhookReason } from "./webhook-decide.js";
import {
  decideBeforeBody,
  MAX_WEBHOOK_BYTES,
  parseDelivery,
  signatureOf,
  WEBHOOK_STATUS,
} from "./webhook-decide.js";

export interface WebhookHandlerOptions {
  readonly secret: string | Secret;
  /** Called after the 202 is sent, once per accepted delivery. Rejections are logged. */
  readonly onJob: (job: WorkflowJob, action: WebhookAction, deliveryId: string) => unknown;
  /**
   * Called once per verified, well-formed workflow_job delivery, just before it is accepted:
   * true = seen before (answered 200, ignored). It should remember the id it is asked about.
   */
  readonly isDuplicate: (deliveryId: string) => boolean;
  readonly log?: GithubLog;
  /** Default 25 MiB, GitHub's cap. */
  readonly maxBodyBytes?: number;
}

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => void;

const silent: GithubLog = { debug() {}, info() {}, warn() {}, error() {} };

/** What the answer says for the refusals made on the headers alone. */
const EARLY_MESSAGES: Readonly<Record<EarlyReason, string>> = {
  "method-not-allowed": "POST only",
  "job-origin": "a request from a sandboxed job cannot start jobs",
  "too-large": "over GitHub's 25 MB payload cap",
};

/** The body as text, or undefined once it passes `max` bytes (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        req.off("data", onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function createWebhookHandler(options: WebhookHandlerOptions): WebhookHandler {
  const secret = revealed(options.secret);
  if (secret === "") {
    throw new SandboxedError(AUTH, "The webhook secret is empty", {
      hint: "Put the secret set on the GitHub webhook in webhook.secretFile (openssl rand -hex 32).",
    });
  }
  const webhooks = new Webhooks({ secret });
  const log = options.log ?? silent;
  const maxBytes = options.maxBodyBytes ?? MAX_WEBHOOK_BYTES;

  const answer = (
    req: IncomingMessage,
    res: ServerResponse,
    reason: WebhookReason,
    message: string,
    fields: Record<string, unknown> = {},
  ): void => {
    const status = WEBHOOK_STATUS[reason];
    const line = { ...fields, [FIELD.status]: status, [FIELD.reason]: reason };
    if (status >= 400) log.warn(line, `webhook refused: ${message}`);
    else log.info(line, `webhook ${reason}`);
    // Refused before the body was read: close rather than drain up to 25 MiB.
    const close =
      reason === "too-large" || reason === "job-origin" || reason === "method-not-allowed";
    res.writeHead(status, {
      "content-type": "text/plain; charset=utf-8",
      ...(close ? { connection: "close" } : {}),
    });
    res.end(`${message}\n`, () => {
      if (close) req.destroy();
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const early = decideBeforeBody(req.method, req.headers, maxBytes);
    if (early) return answer(req, res, early, EARLY_MESSAGES[early]);
    const body = await readBody(req, maxBytes);
    if (body === undefined) return answer(req, res, "too-large", `over ${maxBytes} bytes`);
    const signature = signatureOf(req.headers);
    // verify() compares HMACs with crypto.timingSafeEqual; it refuses an empty body.
    const verified =
      signature !== undefined && body !== "" && (await webhooks.verify(body, signature));
    if (!verified) return answer(req, res, "bad-signature", "X-Hub-Signature-256 does not match");

    const parsed = parseDelivery(req.headers, body);
    const deliveryId = parsed.deliveryId ?? null;
    if (parsed.reason === "malformed") {
      return answer(req, res, "malformed", parsed.message, { [FIELD.deliveryId]: deliveryId });
    }
    if (parsed.reason === "ignored-event" || parsed.reason === "ignored-action") {
      const what = parsed.reason === "ignored-event" ? parsed.event : parsed.action;
      return answer(req, res, parsed.reason, `${what} ignored`, { [FIELD.deliveryId]: deliveryId });
    }
    const { job, action } = parsed;
    const fields = {
      [FIELD.deliveryId]: parsed.deliveryId,
      [FIELD.jobId]: job.id,
      [FIELD.action]: action,
    };
    if (options.isDuplicate(parsed.deliveryId)) {
      return answer(req, res, "duplicate", "duplicate delivery ignored", fields);
    }
    answer(req, res, "accepted", "accepted", fields);
    // After the answer: GitHub counts a delivery failed when it waits over 10 s.
    setImmediate(() => {
      Promise.resolve()
        .then(() => options.onJob(job, action, parsed.deliveryId))
        .catch((error: unknown) =>
          log.error({ ...fields, [FIELD.err]: error }, "webhook job handling failed"),
        );
    });
  };

  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ [FIELD.err]: error }, "webhook request failed");
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  };
}
