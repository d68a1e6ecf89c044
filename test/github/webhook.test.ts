// The webhook handler over real HTTP (runner/github/webhook.ts): the answer for each kind of
// request, that nothing starts before a delivery is verified and accepted, and that the job is
// handed over only after GitHub has its answer.
import { createServer, request } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { Webhooks } from "@octokit/webhooks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createSecret, createWebhookHandler } from "../../runner/github/index.js";
import type { GithubLog, WebhookAction, WorkflowJob } from "../../runner/github/index.js";
import { isSandboxedError } from "../../runner/errors/index.js";

const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const queued = definitions
  .find((d) => d.name === "workflow_job")!
  .examples.find((e) => e.action === "queued")!;

const SECRET = "It's a Secret to Everybody";
const signer = new Webhooks({ secret: SECRET });

interface Sent {
  status: number;
  body: string;
}

let server: Server;
let url: string;
let events: string[];
let jobs: { job: WorkflowJob; action: WebhookAction; deliveryId: string }[];
let seen: Set<string>;
let lines: { level: string; obj: object; msg?: string }[];
let onJob: (job: WorkflowJob, action: WebhookAction, deliveryId: string) => unknown;

const log: GithubLog = {
  debug: (obj, msg) => lines.push({ level: "debug", obj, msg }),
  info: (obj, msg) => lines.push({ level: "info", obj, msg }),
  warn: (obj, msg) => lines.push({ level: "warn", obj, msg }),
  error: (obj, msg) => lines.push({ level: "error", obj, msg }),
};

beforeEach(async () => {
  events = [];
  jobs = [];
  lines = [];
  seen = new Set();
  onJob = (job, action, deliveryId) => {
    events.push("onJob");
    jobs.push({ job, action, deliveryId });
  };
  const handle = createWebhookHandler({
    secret: createSecret(SECRET),
    onJob: (...args) => onJob(...args),
    isDuplicate: (id) => {
      if (seen.has(id)) return true;
      seen.add(id);
      return false;
    },
    log,
    maxBodyBytes: 64 * 1024,
  });
  server = createServer((req, res) => {
    res.on("finish", () => events.push("answered"));
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function deliver(
  body: string,
  headers: Record<string, string | undefined> = {},
  method = "POST",
): Promise<Sent> {
  const all: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": "workflow_job",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-hub-signature-256": await signer.sign(body),
  };
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) delete all[name];
    else all[name] = value;
  }
  const response = await fetch(url, {
    method,
    headers: all,
    ...(method === "GET" ? {} : { body }),
  });
  return { status: response.status, body: await response.text() };
}

const body = JSON.stringify(queued);

describe("createWebhookHandler", () => {
  it("202: accepts a signed workflow_job and hands it over after the answer", async () => {
    const sent = await deliver(body);
    expect(sent).toEqual({ status: 202, body: "accepted\n" });
    await vi.waitFor(() => expect(jobs).toHaveLength(1));
    expect(events).toEqual(["answered", "onJob"]);
    expect(jobs[0]).toMatchObject({
      action: "queued",
      deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      job: { id: 289782451, repo: "Codertocat/Hello-World", labels: ["ubuntu-latest"] },
    });
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: "info",
        obj: expect.objectContaining({
          deliveryId: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
          jobId: 289782451,
          status: 202,
        }),
      }),
    );
  });

  it("202 even when the job's handling never finishes or fails", async () => {
    onJob = () => {
      events.push("onJob");
      return Promise.reject(new Error("scheduler down"));
    };
    expect((await deliver(body)).status).toBe(202);
    await vi.waitFor(() => expect(lines.some((l) => l.level === "error")).toBe(true));
    expect(lines.find((l) => l.level === "error")).toMatchObject({
      msg: "webhook job handling failed",
    });
  });

  it("200: a delivery id seen before is a duplicate, ignored", async () => {
    expect((await deliver(body)).status).toBe(202);
    expect(await deliver(body)).toEqual({ status: 200, body: "duplicate delivery ignored\n" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(jobs).toHaveLength(1);
  });

  // Nothing starts for any of these: onJob is never called and isDuplicate never records.
  it.each([
    {
      name: "401: a forged signature",
      headers: { "x-hub-signature-256": `sha256=${"0".repeat(64)}` },
      status: 401,
    },
    { name: "401: no signature", headers: { "x-hub-signature-256": undefined }, status: 401 },
    {
      name: "401: a sha1 signature only",
      headers: { "x-hub-signature-256": undefined, "x-hub-signature": "sha1=00" },
      status: 401,
    },
    { name: "403: the job-origin header", headers: { "x-sandboxed-job": "job-7" }, status: 403 },
    { name: "400: no delivery id", headers: { "x-github-delivery": undefined }, status: 400 },
    { name: "400: no event", headers: { "x-github-event": undefined }, status: 400 },
    { name: "400: not JSON content", headers: { "content-type": "text/plain" }, status: 400 },
    { name: "202: a ping", headers: { "x-github-event": "ping" }, status: 202 },
  ])("$name", async ({ headers, status }) => {
    const sent = await deliver(body, headers);
    expect(sent.status).toBe(status);
    await new Promise((resolve) => setImmediate(resolve));
    expect(jobs).toEqual([]);
    expect(seen.size).toBe(0);
  });

  it("401: a body changed after signing", async () => {
    const signature = await signer.sign(body);
    const sent = await deliver(body.replace("ubuntu-latest", "sandboxed"), {
      "x-hub-signature-256": signature,
    });
    expect(sent).toEqual({ status: 401, body: "X-Hub-Signature-256 does not match\n" });
    expect(lines.at(-1)).toMatchObject({
      level: "warn",
      obj: { status: 401, reason: "bad-signature" },
    });
  });

  it.each([
    { name: "JSON cut short", payload: body.slice(0, 100), says: "the body is not JSON" },
    {
      name: "a job without an id",
      payload: JSON.stringify({
        ...queued,
        workflow_job: { ...(queued.workflow_job as object), id: undefined },
      }),
      says: "workflow_job webhook payload is malformed: workflow_job.id must be a whole number, got nothing",
    },
  ])("400: $name, saying what is wrong", async ({ payload, says }) => {
    const sent = await deliver(payload);
    expect(sent.status).toBe(400);
    expect(sent.body).toContain(says);
    expect(jobs).toEqual([]);
  });

  it("405: not a POST", async () => {
    expect((await deliver(body, {}, "GET")).status).toBe(405);
  });

  it("413: a Content-Length over the limit, refused before the body is read", async () => {
    const big = JSON.stringify({ ...queued, padding: "x".repeat(70 * 1024) });
    expect((await deliver(big)).status).toBe(413);
  });

  it("413: a chunked body that grows over the limit", async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: "POST", headers: { "content-type": "application/json" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 80; i += 1) req.write("x".repeat(1024));
      req.end();
    });
    expect(status).toBe(413);
  });

  it("refuses an empty secret", () => {
    let error: unknown;
    try {
      createWebhookHandler({ secret: "", onJob: () => {}, isDuplicate: () => false });
    } catch (caught) {
      error = caught;
    }
    expect(
      isSandboxedError(error) && { code: error.code, message: error.message, hint: error.hint },
    ).toEqual({
      code: "SBX_GITHUB_AUTH",
      message: "The webhook secret is empty",
      hint: "Put the secret set on the GitHub webhook in webhook.secretFile (openssl rand -hex 32).",
    });
  });

  it("never logs the secret", async () => {
    await deliver(body);
    await deliver(body, { "x-hub-signature-256": `sha256=${"1".repeat(64)}` });
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});
