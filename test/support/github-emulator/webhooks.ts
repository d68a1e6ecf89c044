/**
 * `workflow_job` webhooks as GitHub sends them: the payload starts from the matching example in
 * @octokit/webhooks-examples (deep-copied, then filled with this job's fields and moved onto our
 * repository), is signed with `X-Hub-Signature-256: sha256=<HMAC-SHA256(secret, body)>`, and
 * is POSTed with `X-GitHub-Event`, a fresh `X-GitHub-Delivery` GUID and `X-GitHub-Hook-ID`.
 * Each attempt is recorded as a delivery (GET /app/hook/deliveries shows failed ones);
 * redelivery resends the same body under the same GUID. Deliveries go out one at a time, in
 * order, and time out after 10 s as GitHub's do.
 * https://docs.github.com/webhooks/webhook-events-and-payloads#workflow_job
 */
import { createHmac, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import type { ClientRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import type { OpenApi } from "./openapi.js";
import { iso, moved } from "./shapes.js";
import type { JobAction, JobRecord, State } from "./state.js";
import type { EmulatorOptions, Violation } from "./types.js";

type Json = Record<string, unknown>;
interface WebhookExamples {
  name: string;
  examples: ({ action: string } & Json)[];
}

/** A delivery attempt (index.ts shows it to tests as a `Delivery`). */
export interface DeliveryRecord {
  readonly id: number;
  readonly guid: string;
  readonly event: string;
  readonly action: string;
  readonly jobId: number;
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  readonly statusCode: number;
  readonly status: string;
  readonly duration: number;
  readonly installationId: number | null;
  readonly repositoryId: number;
  readonly payload: Json;
}

export interface Webhooks {
  /** Queues the webhook for this job transition (payload taken now). */
  send(job: JobRecord, action: JobAction): void;
  list(): DeliveryRecord[];
  drop(on: boolean): void;
  resend(delivery: number | string): Promise<DeliveryRecord>;
  idle(): Promise<void>;
  close(): void;
}

const HOOK_ID = 109948940;
const TIMEOUT_MS = 10_000;

export function createWebhooks(options: {
  emulator: EmulatorOptions;
  state: State;
  openapi: OpenApi;
  apiUrl: () => string;
  violations: Violation[];
}): Webhooks {
  const { emulator, state, openapi } = options;
  const hook = emulator.webhook;
  const deliveries: DeliveryRecord[] = [];
  const bodies = new Map<string, string>();
  const inFlight = new Set<ClientRequest>();
  const all = createRequire(import.meta.url)("@octokit/webhooks-examples") as WebhookExamples[];
  const examples = all.find((e) => e.name === "workflow_job")!.examples;
  let queue: Promise<unknown> = Promise.resolve();
  let dropping = false;
  let closed = false;

  /** The fullest example for an action (the most workflow_job fields), deep-copied. */
  const example = (action: string): Json => {
    const candidates = examples.filter((e) => e.action === action);
    const size = (e: Json) => Object.keys(e.workflow_job as Json).length;
    const best = candidates.reduce((a, b) => (size(b) > size(a) ? b : a));
    return structuredClone(best);
  };

  const payloadOf = (job: JobRecord, action: JobAction): Json => {
    const base = example(action);
    const repo = job.run.repo;
    const from = (base.repository as Json).full_name as string;
    const pairs: [string, string][] = [
      [from, repo.fullName],
      [from.split("/")[0]!, repo.owner],
      ["https://api.github.com", options.apiUrl()],
    ];
    const payload = moved(base, pairs) as Json;
    const api = `${options.apiUrl()}/repos/${repo.fullName}`;
    payload.action = action;
    payload.workflow_job = {
      ...(payload.workflow_job as Json),
      id: job.id,
      run_id: job.run.id,
      run_attempt: 1,
      run_url: `${api}/actions/runs/${job.run.id}`,
      node_id: Buffer.from(`0WorkflowJob${job.id}`).toString("base64"),
      head_sha: job.run.headSha,
      head_branch: job.run.headBranch,
      workflow_name: job.run.workflowName,
      url: `${api}/actions/jobs/${job.id}`,
      html_url: `https://github.com/${repo.fullName}/actions/runs/${job.run.id}/job/${job.id}`,
      check_run_url: `${api}/check-runs/${job.id}`,
      status: job.status,
      conclusion: job.conclusion,
      created_at: iso(job.createdAt),
      started_at: iso(job.startedAt ?? job.createdAt),
      completed_at: job.completedAt === null ? null : iso(job.completedAt),
      name: job.name,
      steps: [],
      labels: [...job.labels],
      runner_id: job.runnerId,
      runner_name: job.runnerName,
      runner_group_id: job.runnerGroupId,
      runner_group_name: job.runnerGroupId === null ? null : "Default",
    };
    payload.repository = {
      ...(payload.repository as Json),
      id: repo.id,
      node_id: Buffer.from(`0Repository${repo.id}`).toString("base64"),
      name: repo.name,
      full_name: repo.fullName,
      private: true,
      default_branch: repo.defaultBranch,
      owner: {
        ...((payload.repository as Json).owner as Json),
        login: repo.owner,
        id: repo.ownerId,
        type: repo.ownerType,
      },
    };
    delete payload.deployment;
    if (repo.ownerType === "Organization") {
      const org = moved(structuredClone(examples.find((e) => e.organization)!.organization), [
        [(examples.find((e) => e.organization)!.organization as Json).login as string, repo.owner],
      ]) as Json;
      payload.organization = { ...org, login: repo.owner, id: repo.ownerId };
    } else {
      delete payload.organization;
    }
    if (emulator.app === undefined) delete payload.installation;
    else
      payload.installation = {
        id: emulator.app.installationId,
        node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==",
      };
    return payload;
  };

  type Attempt = Omit<DeliveryRecord, "statusCode" | "status" | "duration" | "deliveredAt">;
  const attempt = async (delivery: Attempt) => {
    const body = bodies.get(delivery.guid)!;
    const started = Date.now();
    let statusCode = 502;
    let status = "Invalid HTTP Response: 502";
    if (!dropping && hook !== undefined) {
      const signature = (algorithm: string) =>
        `${algorithm}=${createHmac(algorithm, hook.secret).update(body).digest("hex")}`;
      const target = emulator.app === undefined ? delivery.repositoryId : emulator.app.appId;
      const headers = {
        "content-type": "application/json",
        "user-agent": "GitHub-Hookshot/emulator",
        "x-github-event": delivery.event,
        "x-github-delivery": delivery.guid,
        "x-github-hook-id": String(HOOK_ID),
        "x-github-hook-installation-target-id": String(target),
        "x-github-hook-installation-target-type":
          emulator.app === undefined ? "repository" : "integration",
        "x-hub-signature": signature("sha1"),
        "x-hub-signature-256": signature("sha256"),
      };
      const code = await post(hook.url, hook.socketPath, headers, body);
      statusCode = code;
      status =
        code === 0
          ? "failed to connect to host"
          : code < 300
            ? "OK"
            : `Invalid HTTP Response: ${code}`;
    }
    const done: DeliveryRecord = {
      ...delivery,
      statusCode,
      status,
      deliveredAt: state.now(),
      duration: (Date.now() - started) / 1000,
    };
    deliveries.push(done);
    state.changed();
    return done;
  };

  const enqueue = (delivery: Attempt): Promise<DeliveryRecord> => {
    const next = queue.then(() => (closed ? undefined : attempt(delivery)));
    queue = next.catch(() => undefined);
    return next.then((d) => {
      if (d === undefined) throw new Error("the emulator was closed before this delivery");
      return d;
    });
  };

  function post(
    url: string,
    socketPath: string | undefined,
    headers: Record<string, string>,
    body: string,
  ) {
    return new Promise<number>((resolve) => {
      const u = new URL(url);
      const request = u.protocol === "https:" ? httpsRequest : httpRequest;
      const req = request(
        {
          method: "POST",
          hostname: u.hostname,
          port: u.port,
          path: `${u.pathname}${u.search}`,
          headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
          ...(socketPath === undefined ? {} : { socketPath }),
          timeout: TIMEOUT_MS,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", () => resolve(res.statusCode ?? 0));
        },
      );
      inFlight.add(req);
      req.on("close", () => inFlight.delete(req));
      req.on("timeout", () => req.destroy(new Error("timed out")));
      req.on("error", () => resolve(0));
      req.end(body);
    });
  }

  return {
    send: (job, action) => {
      if (hook === undefined) return;
      const payload = payloadOf(job, action);
      if (emulator.validate !== false) {
        const problems = openapi.checkWebhook(action, payload);
        if (problems.length > 0) {
          options.violations.push({
            method: "WEBHOOK",
            route: `workflow_job.${action}`,
            status: 0,
            problems,
          });
        }
      }
      const guid = randomUUID();
      bodies.set(guid, JSON.stringify(payload));
      void enqueue({
        id: state.nextId(),
        guid,
        event: "workflow_job",
        action,
        jobId: job.id,
        redelivery: false,
        installationId: emulator.app?.installationId ?? null,
        repositoryId: job.run.repo.id,
        payload,
      }).catch(() => undefined);
    },

    list: () => [...deliveries],

    drop: (on) => {
      dropping = on;
    },

    resend: (which) => {
      const original = deliveries.find((d) => d.id === which || d.guid === which);
      if (original === undefined) return Promise.reject(new Error(`no delivery ${String(which)}`));
      const { guid, event, action, jobId, installationId, repositoryId, payload } = original;
      const again = { guid, event, action, jobId, installationId, repositoryId, payload };
      return enqueue({ ...again, id: state.nextId(), redelivery: true });
    },

    idle: async () => {
      // Deliveries queued while we wait extend the chain: wait until it stops growing.
      let seen: Promise<unknown>;
      do {
        seen = queue;
        await seen;
      } while (seen !== queue);
    },

    close: () => {
      closed = true;
      for (const req of inFlight) req.destroy();
    },
  };
}
