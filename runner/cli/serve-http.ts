/**
 * The service's HTTP faces: the webhook listener (public: only the webhook path and /healthz) and
 * the metrics listener (private: /metrics and /healthz). Stopping intake closes the webhook
 * listener first, so a draining service takes no new job while GitHub's deliveries fail and are
 * picked up again by the next start's reconcile pass.
 */
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { Listen, ServiceConfig } from "../config/index.js";
import { createWebhookHandler } from "../github/index.js";
import type { Scope } from "../github/index.js";
import type { Logger } from "../logs/index.js";
import { startMetricsServer } from "../metrics/index.js";
import type { Metrics } from "../metrics/index.js";
import type { Scheduler } from "../scheduler/index.js";
import { sourceJobOf } from "./serve-source.js";

export interface ServeHttp {
  describe(): string;
  stopIntake(): Promise<void>;
  close(): Promise<void>;
}

/** Delivery ids seen lately: GitHub's redeliveries and our own redelivery requests repeat them. */
function recentIds(limit = 10_000): (id: string) => boolean {
  const seen = new Set<string>();
  return (id) => {
    if (seen.has(id)) return true;
    seen.add(id);
    if (seen.size > limit) seen.delete(seen.values().next().value!);
    return false;
  };
}

const where = (listen: Listen): string =>
  "path" in listen ? `unix:${listen.path}` : `${listen.host}:${listen.port}`;

function listenOn(server: Server, listen: Listen): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

const closeServer = (server: Server | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!server?.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });

export async function startServeHttp(options: {
  readonly config: ServiceConfig;
  readonly webhookSecret?: string;
  readonly scheduler: Scheduler;
  readonly metrics: Metrics;
  readonly scope: Scope;
  readonly log: Logger;
}): Promise<ServeHttp> {
  const { config, scheduler, log } = options;
  const health = (): { ok: boolean; detail: Record<string, unknown> } => {
    const status = scheduler.status();
    return { ok: !status.draining && !status.lastReconcileError, detail: { ...status } };
  };
  let webhook: Server | undefined;
  if (config.webhook && options.webhookSecret) {
    const handle = createWebhookHandler({
      secret: options.webhookSecret,
      isDuplicate: recentIds(),
      log: log.child({ area: "webhook" }),
      onJob: (job, action, deliveryId) => {
        const source = sourceJobOf(job, options.scope);
        if (action === "queued") {
          const result = scheduler.offer(source, "webhook", deliveryId);
          log.info({ jobId: job.id, deliveryId, ...result }, "workflow_job queued");
        } else {
          scheduler.jobChanged(source, action, job.runnerName);
        }
      },
    });
    const path = config.webhook.path;
    webhook = createServer((req, res) => {
      const url = (req.url ?? "/").split("?")[0];
      if (url === path) return handle(req, res);
      if (url === "/healthz" && req.method === "GET") {
        const h = health();
        res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
        return res.end(JSON.stringify({ ok: h.ok, ...h.detail }));
      }
      res.writeHead(404).end();
    });
    await listenOn(webhook, config.webhook.listen);
  }
  const metricsServer = config.metrics
    ? await startMetricsServer({ listen: config.metrics.listen, metrics: options.metrics, health })
    : undefined;
  return {
    describe: () =>
      [
        config.webhook
          ? `webhooks on ${where(config.webhook.listen)}${config.webhook.path}`
          : "no webhooks (polling)",
        config.metrics ? `metrics on ${where(config.metrics.listen)}` : "",
      ]
        .filter(Boolean)
        .join("; "),
    stopIntake: () => closeServer(webhook),
    async close() {
      await closeServer(webhook);
      await metricsServer?.close();
    },
  };
}
