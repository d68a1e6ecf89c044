// `sandboxed serve` end to end (issue 6): the service in the test world's host namespace takes
// jobs from the GitHub emulator (a stand-in for GitHub's servers, every REST reply checked against
// GitHub's OpenAPI description) and runs each once in a real VM, where a stand-in for the official
// runner (test/support/runner-standin) takes the job through the sandbox's egress proxy. A second
// label set runs on the container backend (issue 7): its jobs go the same way, in a container,
// under the same capacity (the 20-job scenario sends half its jobs to each).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHmac } from "node:crypto";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import { SANDBOX_LABEL } from "../../runner/sandbox/container/index.js";
import { listSandboxes } from "../../runner/sandbox/index.js";
import { buildTemplate } from "../../runner/sandbox/vm/index.js";
import { ensureDockerd } from "../support/dockerd.js";
import { qemuPids, requireRoot, TEST_STATE_DIR } from "./helpers.js";
import { namespaces } from "./net-topology.js";
import { buildServeWorld } from "./serve-world.js";
import type { ServeWorld, ServiceProcess } from "./serve-world.js";

const exec = promisify(execFile);
const BIN = path.join(packageRoot(), "bin", "sandboxed.js");
const REPO = "octo-org/app";
const POLICY = `apiVersion: sandboxed/v1
kind: Policy
resources: { cpus: 1, memory: 1GiB, disk: 2GiB, timeout: 10m }
network:
  mode: allowlist
  allow: [github.test]
`;

/** The container label set's labels; the VM set's are [sandboxed], so neither takes the other's. */
const CONTAINER_LABELS = ["sandboxed-container"];

let world: ServeWorld;
let service: ServiceProcess | undefined;
let dockerSocket: string;

async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  ms = 600_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}\n--- service output ---\n${service?.output().slice(-6000)}`,
      );
    await new Promise((r) => setTimeout(r, 500));
  }
}

const job = (id: number) => world.emulator.jobs().find((j) => j.id === id)!;
const jitRequestsFor = (id: number): number =>
  world.emulator
    .requests()
    .filter(
      (r) => r.method === "POST" && r.path.endsWith("/generate-jitconfig") && r.status === 201,
    )
    .filter((r) =>
      String((r.body as { name?: string } | undefined)?.name ?? "").includes(`-${id}-`),
    ).length;

function queue(n: number, script: (i: number) => string, labels = ["sandboxed"]): number[] {
  return world.emulator.queueRun(REPO, {
    jobs: Array.from({ length: n }, (_, i) => ({
      name: `job ${i + 1}`,
      labels,
      script: script(i + 1),
    })),
  }).jobIds;
}

const allDone = (ids: readonly number[]) => () => ids.every((id) => job(id).status === "completed");

/** The service's record of a job (its state dir), once it has one. */
function jobRecord(id: number) {
  const file = path.join(TEST_STATE_DIR, "serve", "jobs", `${id}.json`);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as {
    readyAt: number;
    startedAt: number;
    finishedAt: number;
    sandboxId?: string;
    state: string;
    outcome?: string;
    title?: string;
  };
}

beforeAll(async () => {
  requireRoot();
  // Built here, where the Debian mirror is reachable: the service in sbxt-host could not build it.
  await buildTemplate({ name: "default", stateDir: TEST_STATE_DIR, root: packageRoot() });
  dockerSocket = await ensureDockerd();
  world = await buildServeWorld({
    capacity: 3,
    policy: POLICY,
    container: { labels: CONTAINER_LABELS, dockerSocket },
  });
  world.emulator.addRepo(REPO);
  service = await world.startService();
}, 900_000);

afterAll(async () => {
  await service?.stop("SIGTERM");
  await world?.teardown();
}, 300_000);

describe("sandboxed serve with the GitHub emulator and real VMs", () => {
  it("runs 20 queued jobs, half on each backend, on capacity 3 shared by both: never more than 3 at once, each in its own sandbox", async () => {
    // Odd jobs go to the VM label set, even ones to the container label set: one queue, one
    // capacity, two backends.
    const onContainer = (i: number) => i % 2 === 0;
    const { jobIds: ids } = world.emulator.queueRun(REPO, {
      jobs: Array.from({ length: 20 }, (_, n) => ({
        name: `job ${n + 1}`,
        labels: onContainer(n + 1) ? ["self-hosted", ...CONTAINER_LABELS] : ["sandboxed"],
        script: `echo "job ${n + 1} says hi from $(hostname)"; sleep 2`,
      })),
    });
    await until("20 jobs to complete", allDone(ids), 1_500_000);
    for (const id of ids) expect(job(id), `job ${id}`).toMatchObject({ conclusion: "success" });
    expect(world.emulator.maxConcurrentRunning()).toBeLessThanOrEqual(3);
    expect(world.emulator.maxConcurrentRunning()).toBeGreaterThanOrEqual(2);
    // Each job's log: its own output, under the policy summary the job-started hook printed.
    for (const n of [5, 6]) {
      const log = world.emulator.jobLog(ids[n - 1]!);
      expect(log).toContain(`job ${n} says hi`);
      expect(log).toMatch(/sandboxed: .*policy/);
    }
    // The repository sees one check run per job; no runner stays registered.
    // Reported after the sandbox is gone, so a moment after GitHub saw the job complete.
    const checks = await until("20 check runs", () => {
      const found = world.emulator
        .checkRuns()
        .filter((c) => ids.some((id) => c.details_url?.endsWith(`/job/${id}`)));
      return found.length === 20 && found;
    });
    expect(checks.every((c) => c.conclusion === "success")).toBe(true);
    await until("runners to be deleted", () => world.emulator.runners().length === 0, 60_000);
    expect(world.emulator.violations()).toEqual([]);
    // Each ran on its label set's backend, in a sandbox of its own.
    const backendOf = (id: number): string =>
      (
        JSON.parse(readFileSync(path.join(world.logDir, String(id), "report.json"), "utf8")) as {
          backend: string;
        }
      ).backend;
    ids.forEach((id, n) =>
      expect(backendOf(id), `job ${n + 1}`).toMatch(onContainer(n + 1) ? /^container/ : /^vm/),
    );
    expect(new Set(ids.map((id) => jobRecord(id)!.sandboxId)).size).toBe(20);
    // What ops see: the jobs by outcome, the queue-to-start histogram, health.
    const metrics = await world.getMetrics("/metrics");
    expect(metrics.body).toMatch(/^sandboxed_jobs_total\{outcome="success"\} 20$/m);
    expect(metrics.body).toMatch(/^sandboxed_queue_to_start_seconds_count 20$/m);
    expect(metrics.body).toMatch(/^sandboxed_sandboxes_live 0$/m);
    expect((await world.getMetrics("/healthz")).status).toBe(200);
    // Queue-to-ready and slot-to-ready latency by backend, for bench/serve.mjs (docs/benchmarks.md).
    const latencies = ids.map((id, n) => {
      const rec = jobRecord(id)!;
      return {
        backend: onContainer(n + 1) ? "container" : "vm",
        queueToReady: (rec.readyAt - Date.parse(job(id).created_at)) / 1000,
        slotToReady: (rec.readyAt - rec.startedAt) / 1000,
        readyToDone: (rec.finishedAt - rec.readyAt) / 1000,
      };
    });
    if (process.env.SANDBOXED_BENCH_OUT)
      writeFileSync(process.env.SANDBOXED_BENCH_OUT, JSON.stringify({ latencies }));
  }, 1_800_000);

  // After the 20 jobs: their metrics count exactly 20.
  it("runs a job of a backend: container label set end to end, like a VM job", async () => {
    const [id] = queue(1, () => 'echo "container job says hi as $(id -un)"', [
      "self-hosted",
      ...CONTAINER_LABELS,
    ]);
    const folder = path.join(world.logDir, String(id));
    await until(
      "the container job to complete",
      () => {
        if (allDone([id!])()) return true;
        const rec = jobRecord(id!);
        if (rec?.state !== "done") return false;
        // The service is done with it but GitHub never saw it run: say why, now.
        const runnerLog = path.join(folder, "runner.log");
        throw new Error(
          `the service ended job ${id} unrun: ${rec.outcome}: ${rec.title}\n` +
            `runner.log: ${existsSync(runnerLog) ? readFileSync(runnerLog, "utf8") : "(none)"}`,
        );
      },
      300_000,
    );
    expect(job(id!).conclusion, world.emulator.jobLog(id!)).toBe("success");
    expect(world.emulator.jobLog(id!)).toContain("container job says hi as");
    expect(jitRequestsFor(id!)).toBe(1);
    // Reported after the sandbox is gone: the check run, then no runner, sandbox or container.
    const check = await until(
      "its check run",
      () => world.emulator.checkRuns().find((c) => c.details_url?.endsWith(`/job/${id}`)),
      120_000,
    );
    expect(check.conclusion).toBe("success");
    await until("its runner to be deleted", () => world.emulator.runners().length === 0, 60_000);
    expect(listSandboxes(TEST_STATE_DIR)).toEqual([]);
    const left = await new Docker({ socketPath: dockerSocket }).listContainers({
      all: true,
      filters: { label: [SANDBOX_LABEL] },
    });
    expect(left.map((c) => c.Names[0] ?? c.Id)).toEqual([]);
    expect(world.emulator.violations()).toEqual([]);
    // The job's log folder, and `sandboxed logs`: the runner's log, and a report of the container.
    // (console.log only when the container printed outside the protocol: it has no boot console.)
    expect(readFileSync(path.join(folder, "runner.log"), "utf8")).toContain("Running job: job 1");
    const report = JSON.parse(readFileSync(path.join(folder, "report.json"), "utf8")) as {
      backend: string;
      outcome: string;
    };
    expect(report).toMatchObject({ backend: "container (runsc)", outcome: "success" });
    const { stdout } = await exec(process.execPath, [
      BIN,
      "logs",
      String(id),
      "--config",
      world.configFile,
    ]);
    expect(stdout).toContain(`job ${id} success`);
    expect(stdout).toContain("label set container");
    expect(stdout).toContain('"backend": "container (runsc)"');
  }, 600_000);

  it("answers a forged webhook 401 and starts nothing", async () => {
    const body = JSON.stringify({
      action: "queued",
      workflow_job: { id: 999_999, labels: ["sandboxed"] },
    });
    const forged = `sha256=${createHmac("sha256", "not-the-secret").update(body).digest("hex")}`;
    const status = await world.postWebhook(body, {
      "x-github-event": "workflow_job",
      "x-github-delivery": "forged-1",
      "x-hub-signature-256": forged,
    });
    expect(status).toBe(401);
    expect(
      await world.postWebhook(body, {
        "x-github-event": "workflow_job",
        "x-github-delivery": "forged-2",
      }),
    ).toBe(401);
    await new Promise((r) => setTimeout(r, 3000));
    expect(existsSync(path.join(TEST_STATE_DIR, "serve", "jobs", "999999.json"))).toBe(false);
    expect(jitRequestsFor(999_999)).toBe(0);
  });

  it("refuses a webhook that carries the job-origin header: a job cannot start jobs", async () => {
    const body = JSON.stringify({
      action: "queued",
      workflow_job: { id: 999_998, labels: ["sandboxed"] },
    });
    const signature = `sha256=${createHmac("sha256", world.webhookSecret).update(body).digest("hex")}`;
    const status = await world.postWebhook(body, {
      "x-github-event": "workflow_job",
      "x-github-delivery": "origin-1",
      "x-hub-signature-256": signature,
      "x-sandboxed-job": "sbx-0123456789",
    });
    expect(status).toBe(403);
  });

  it("starts one sandbox for a job whose webhook arrives three times", async () => {
    const [id] = queue(1, () => "echo once");
    await world.emulator.webhooks.idle();
    const delivery = world.emulator
      .deliveries()
      .find((d) => d.job_id === id && d.action === "queued")!;
    await world.emulator.webhooks.resend(delivery.guid);
    await world.emulator.webhooks.resend(delivery.guid);
    await until("the job to complete", allDone([id!]));
    expect(job(id!).conclusion).toBe("success");
    expect(jitRequestsFor(id!)).toBe(1);
  }, 600_000);

  it("picks up jobs whose webhooks were lost (reconcile)", async () => {
    world.emulator.webhooks.drop(true);
    const ids = queue(2, (i) => `echo lost ${i}`);
    world.emulator.webhooks.drop(false);
    await until("both jobs to complete", allDone(ids));
    for (const id of ids) expect(job(id).conclusion).toBe("success");
  }, 600_000);

  it("starts no sandbox for a job cancelled while queued", async () => {
    // Containers fill the shared capacity (they start in seconds); the cancelled job is a VM job.
    const busy = queue(3, () => "sleep 12", ["self-hosted", ...CONTAINER_LABELS]);
    await until("3 jobs running", () => busy.every((id) => job(id).status === "in_progress"));
    const [cancelled] = queue(1, () => "echo should never run");
    world.emulator.cancelJob(cancelled!);
    await until("the busy jobs to complete", allDone(busy));
    await new Promise((r) => setTimeout(r, 3000));
    expect(job(cancelled!).conclusion).toBe("cancelled");
    expect(jitRequestsFor(cancelled!)).toBe(0);
  }, 900_000);

  it("retries GitHub's 5xx and rate-limit replies and loses no job", async () => {
    world.emulator.faults.add({
      method: "POST",
      path: /generate-jitconfig$/,
      reply: 502,
      times: 2,
    });
    world.emulator.faults.add({
      method: "POST",
      path: /check-runs$/,
      reply: "secondary-rate-limit",
      times: 1,
    });
    world.emulator.faults.add({
      method: "GET",
      path: /\/actions\/jobs\/\d+$/,
      reply: "rate-limit",
      times: 1,
    });
    const [id] = queue(1, () => "echo through the storm");
    await until("the job to complete", allDone([id!]));
    expect(job(id!).conclusion).toBe("success");
    await until(
      "its check run",
      () =>
        world.emulator
          .checkRuns()
          .some((c) => c.head_sha === job(id!).head_sha && c.conclusion === "success"),
      120_000,
    );
    const jit = world.emulator.requests().filter((r) => r.path.endsWith("/generate-jitconfig"));
    expect(jit.filter((r) => r.status === 502).length).toBeGreaterThanOrEqual(2);
  }, 600_000);

  it("after kill -9 mid-job, a restart removes the sandbox, reports infrastructure_error and leaves no runner", async () => {
    const [id] = queue(1, () => "echo started; sleep 300");
    await until("the job to run", () => job(id!).status === "in_progress");
    await service!.stop("SIGKILL");
    expect(qemuPids().length).toBeGreaterThan(0); // the VM outlived its service
    service = await world.startService();
    await until("the job to be failed", () => job(id!).status === "completed", 300_000);
    expect(job(id!).conclusion).toBe("failure");
    const check = await until("the check run", () =>
      world.emulator
        .checkRuns()
        .find(
          (c) =>
            c.details_url?.endsWith(`/job/${id}`) === true &&
            c.output.title?.startsWith("infrastructure_error") === true,
        ),
    );
    expect(check.conclusion).toBe("failure");
    expect(world.emulator.runners()).toEqual([]);
    expect(listSandboxes(TEST_STATE_DIR)).toEqual([]);
    expect((await namespaces()).filter((n) => n.startsWith("sbx-"))).toEqual([]);
    expect(qemuPids()).toEqual([]);
    // `sandboxed logs` shows the job's record.
    const { stdout } = await exec(process.execPath, [
      BIN,
      "logs",
      String(id),
      "--config",
      world.configFile,
    ]);
    expect(stdout).toContain("infrastructure");
  }, 900_000);

  it("drains on SIGTERM: the running job finishes, the service exits 0", async () => {
    const [id] = queue(1, () => "sleep 15; echo drained");
    await until("the job to run", () => job(id!).status === "in_progress");
    const code = await service!.stop("SIGTERM");
    service = undefined;
    expect(code).toBe(0);
    expect(job(id!)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(world.emulator.runners()).toEqual([]);
    expect(listSandboxes(TEST_STATE_DIR)).toEqual([]);
  }, 600_000);
});
