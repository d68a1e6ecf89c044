// The GitHub emulator's `workflow_job` webhooks: built from @octokit/webhooks-examples, signed
// so that @octokit/webhooks verifies them, recorded as App hook deliveries (failed ones listed
// by GET /app/hook/deliveries) and redelivered under the same GUID.
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Webhooks } from "@octokit/webhooks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import {
  APP_ID,
  appClient,
  appKeys,
  INSTALLATION_ID,
  REPO,
  startEmulator,
  startReceiver,
} from "./helpers.js";

const SECRET = "It's a Secret to Everybody";
const keys = appKeys();
let emulator: GithubEmulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  emulator = await startEmulator({
    webhook: { url: receiver.url, secret: SECRET },
    app: { appId: APP_ID, installationId: INSTALLATION_ID, publicKeyPem: keys.publicKeyPem },
  });
  emulator.addRepo("octo-org/app");
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
afterEach(async () => {
  await emulator.webhooks.idle();
  expect(emulator.violations()).toEqual([]);
  receiver.status.code = 202;
  emulator.webhooks.drop(false);
});

const payloadOf = (body: string) =>
  JSON.parse(body) as {
    action: string;
    workflow_job: Record<string, unknown>;
    repository: { full_name: string; owner: { login: string } };
    installation?: { id: number };
    organization?: { login: string };
  };

describe("workflow_job webhooks", () => {
  it("sends one signed `queued` webhook per job, with GitHub's headers", async () => {
    const before = receiver.received.length;
    const { runId, jobIds } = emulator.queueRun("octo-org/app", {
      jobs: [
        { name: "build", labels: ["sandboxed"], script: "true" },
        { name: "test", labels: ["sandboxed", "big"], script: "true" },
      ],
      headSha: "e".repeat(40),
    });
    await emulator.webhooks.idle();
    const got = receiver.received.slice(before);
    expect(got).toHaveLength(2);
    const webhooks = new Webhooks({ secret: SECRET });
    const impostor = new Webhooks({ secret: "not the secret" });
    for (const [i, { headers, body }] of got.entries()) {
      expect(headers["x-github-event"]).toBe("workflow_job");
      expect(headers["x-github-delivery"]).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(headers["x-github-hook-id"]).toMatch(/^\d+$/);
      expect(headers["x-github-hook-installation-target-type"]).toBe("integration");
      expect(headers["x-github-hook-installation-target-id"]).toBe(String(APP_ID));
      const signature = headers["x-hub-signature-256"] as string;
      expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(await webhooks.verify(body, signature)).toBe(true);
      expect(await impostor.verify(body, signature)).toBe(false);
      const payload = payloadOf(body);
      expect(payload.action).toBe("queued");
      expect(payload.workflow_job).toMatchObject({
        id: jobIds[i],
        run_id: runId,
        status: "queued",
        conclusion: null,
        head_sha: "e".repeat(40),
        runner_name: null,
        runner_group_name: null,
        labels: i === 0 ? ["sandboxed"] : ["sandboxed", "big"],
      });
      expect(payload.repository.full_name).toBe("octo-org/app");
      expect(payload.installation?.id).toBe(INSTALLATION_ID);
      expect(payload.organization?.login).toBe("octo-org");
    }
    for (const id of jobIds) emulator.cancelJob(id);
    await emulator.webhooks.idle();
    const completed = receiver.received.slice(before + 2).map((r) => payloadOf(r.body));
    expect(completed.map((p) => [p.action, p.workflow_job.conclusion])).toEqual([
      ["completed", "cancelled"],
      ["completed", "cancelled"],
    ]);
  });

  it("records a receiver's error answer as a failed delivery", async () => {
    receiver.status.code = 500;
    const { jobIds } = emulator.queueRun("octo-org/app", {
      jobs: [{ name: "x", labels: ["a"], script: "" }],
    });
    await emulator.webhooks.idle();
    const delivery = emulator.deliveries().find((d) => d.job_id === jobIds[0]);
    expect(delivery).toMatchObject({
      status_code: 500,
      status: "Invalid HTTP Response: 500",
      redelivery: false,
    });
    emulator.cancelJob(jobIds[0]!);
  });

  it("drops webhooks on request, lists them as failed, and redelivers them under the same GUID", async () => {
    emulator.webhooks.drop(true);
    const before = receiver.received.length;
    const { jobIds } = emulator.queueRun("octo-org/app", {
      jobs: [{ name: "lost", labels: ["a"], script: "" }],
    });
    await emulator.webhooks.idle();
    expect(receiver.received.length).toBe(before);
    emulator.webhooks.drop(false);
    const dropped = emulator.deliveries().find((d) => d.job_id === jobIds[0])!;
    expect(dropped).toMatchObject({ status_code: 502, action: "queued", event: "workflow_job" });

    const app = appClient(emulator, keys.privateKey);
    const failed = await app.paginate(app.rest.apps.listWebhookDeliveries, {
      per_page: 2,
      status: "failure",
    });
    expect(failed.map((d) => d.guid)).toContain(dropped.guid);
    expect(failed.every((d) => d.status_code >= 400)).toBe(true);
    const detail = await app.rest.apps.getWebhookDelivery({ delivery_id: dropped.id });
    expect(detail.data).toMatchObject({ guid: dropped.guid, status_code: 502 });

    const attempt = await app.rest.apps.redeliverWebhookDelivery({ delivery_id: dropped.id });
    expect(attempt.status).toBe(202);
    await emulator.webhooks.idle();
    const resent = receiver.received.slice(before);
    expect(resent).toHaveLength(1);
    expect(resent[0]!.headers["x-github-delivery"]).toBe(dropped.guid);
    expect(
      emulator
        .deliveries()
        .filter((d) => d.guid === dropped.guid)
        .map((d) => [d.redelivery, d.status_code]),
    ).toEqual([
      [false, 502],
      [true, 202],
    ]);
    const again = await emulator.webhooks.resend(dropped.guid);
    expect(again).toMatchObject({ guid: dropped.guid, redelivery: true, status: "OK" });
    emulator.cancelJob(jobIds[0]!);
  });

  it("delivers over a unix socket when one is given", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "emulator-hook-"));
    const socketPath = path.join(dir, "webhook.sock");
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        bodies.push(`${req.url} ${body}`);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const viaSocket = await startEmulator({
      webhook: { url: "http://localhost/hooks/github", secret: SECRET, socketPath },
    });
    try {
      viaSocket.addRepo("octo-org/app");
      viaSocket.queueRun("octo-org/app", { jobs: [{ name: "x", labels: ["a"], script: "" }] });
      await viaSocket.webhooks.idle();
      expect(bodies).toHaveLength(1);
      expect(bodies[0]).toMatch(/^\/hooks\/github \{"action":"queued"/);
      expect(viaSocket.deliveries()[0]).toMatchObject({ status: "OK", installation_id: null });
      expect(viaSocket.violations()).toEqual([]);
    } finally {
      await viaSocket.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("records 'failed to connect' when nothing listens", async () => {
    const nowhere = await startEmulator({
      webhook: { url: "http://127.0.0.1:9/webhook", secret: SECRET },
    });
    try {
      nowhere.addRepo(`${REPO.owner}/${REPO.repo}`);
      nowhere.queueRun("octo-org/app", { jobs: [{ name: "x", labels: ["a"], script: "" }] });
      await nowhere.webhooks.idle();
      expect(nowhere.deliveries()[0]).toMatchObject({
        status_code: 0,
        status: "failed to connect to host",
      });
    } finally {
      await nowhere.close();
    }
  });
});
