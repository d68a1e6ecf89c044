// The service queue's rules (runner/scheduler), issue 6: idempotent intake, capacity, cancel,
// idle runners, restart. The sandbox here is a test stand-in that plays the runner's output lines;
// the same scenarios run against real VMs and the GitHub emulator in test/integration/serve.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ResolvedPolicy } from "../../runner/policy/index.js";
import { createScheduler, openJobStore } from "../../runner/scheduler/index.js";
import type {
  JobResult,
  JobSource,
  Scheduler,
  SchedulerOptions,
  SourceJob,
} from "../../runner/scheduler/index.js";
import type { JobSpec, Sandbox, SandboxReport } from "../../runner/sandbox/index.js";

const policy: ResolvedPolicy = {
  apiVersion: "sandboxed/v1",
  kind: "Policy",
  files: ["policies/default.yml"],
  enforce: true,
  isolation: { backend: "vm", runtime: "auto", sudo: true },
  resources: {
    cpus: 1,
    memoryBytes: 1 << 30,
    diskBytes: 4 * 2 ** 30,
    pids: 512,
    timeoutSeconds: 600,
  },
  network: { mode: "allowlist", bandwidth: { egressBps: 1e8, ingressBps: 1e8 }, allow: [] },
  origins: {},
} as ResolvedPolicy;

const job = (id: number, labels = ["sandboxed"]): SourceJob => ({
  id,
  repo: "octo/app",
  runId: 1000 + id,
  runAttempt: 1,
  name: `job-${id}`,
  workflowName: "ci",
  labels,
  headSha: "a".repeat(40),
  htmlUrl: `https://github.test/octo/app/actions/runs/1/job/${id}`,
});

interface World {
  source: JobSource;
  queued: SourceJob[];
  runners: Map<number, string>;
  reports: { job: number; result: JobResult }[];
  running: number;
  maxRunning: number;
  /** How the stand-in runner behaves for a job: take it, or sit idle. */
  behaviour: (jobId: number) => "run" | "idle";
}

function world(): World {
  let nextRunner = 1;
  const w: World = {
    queued: [],
    runners: new Map(),
    reports: [],
    running: 0,
    maxRunning: 0,
    behaviour: () => "run",
    source: {
      listQueued: async () => [...w.queued],
      isQueued: async (j) => w.queued.some((q) => q.id === j.id),
      createRunner: async (_j, { name }) => {
        const runnerId = nextRunner++;
        w.runners.set(runnerId, name);
        return { runnerId, runnerName: name, jitConfig: { reveal: () => `jit-${runnerId}` } };
      },
      deleteRunner: async (_j, id) => void w.runners.delete(id),
      listRunners: async (prefix) =>
        [...w.runners]
          .filter(([, name]) => name.startsWith(prefix))
          .map(([id, name]) => ({ id, name, busy: false, job: job(0) })),
      report: async (j, result) => void w.reports.push({ job: j.id, result }),
    },
  };
  return w;
}

/** A test stand-in for a VM sandbox: its "runner" prints what the official runner prints. */
function standInSandbox(w: World, jobId: number, id: string): Sandbox {
  return {
    id,
    async run(spec: JobSpec): Promise<SandboxReport> {
      w.running++;
      w.maxRunning = Math.max(w.maxRunning, w.running);
      try {
        const verdict = await spec.drive!({
          exec: async (request, onOutput) => {
            expect(request.env?.ACTIONS_RUNNER_INPUT_JITCONFIG).toMatch(/^jit-/);
            onOutput?.("stdout", "Listening for Jobs\n");
            if (w.behaviour(jobId) === "idle") {
              await new Promise<void>((resolve) =>
                request.signal?.addEventListener("abort", () => resolve()),
              );
              return { exitCode: null, signal: "SIGKILL", durationMs: 1, timedOut: false };
            }
            w.queued = w.queued.filter((q) => q.id !== jobId);
            onOutput?.("stdout", `Running job: job-${jobId}\n`);
            await new Promise((r) => setTimeout(r, 20));
            onOutput?.("stdout", `Job job-${jobId} completed with result: Succeeded\n`);
            return { exitCode: 0, signal: null, durationMs: 20, timedOut: false };
          },
        });
        return {
          id,
          backend: "stand-in",
          outcome: verdict,
          exitStatus: verdict === "success" ? 0 : 1,
          steps: [],
          peaks: {},
          limits: {
            cpus: 1,
            memoryBytes: 1 << 30,
            diskBytes: 1 << 30,
            pids: 100,
            timeoutSeconds: 60,
          },
          timings: { totalMs: 20 },
        };
      } finally {
        w.running--;
      }
    },
    destroy: async () => undefined,
  };
}

let stateDir: string;
let w: World;
let sched: Scheduler | undefined;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function options(extra: Partial<SchedulerOptions> = {}): SchedulerOptions {
  let n = 0;
  return {
    stateDir,
    source: w.source,
    labelSets: [{ name: "default", labels: ["sandboxed"] }],
    capacity: { sandboxes: 3, cpus: 8, memoryBytes: 16 * 2 ** 30 },
    reconcileIntervalMs: 3_600_000,
    runnerPrefix: "sbx-test-",
    idleTimeoutMs: 200,
    preparePolicy: async () => policy,
    guestRunner: () => ({ dir: "/home/runner/actions-runner", hookEnv: {} }),
    createSandbox: (request) => standInSandbox(w, request.job.id, request.id),
    openLog: () => ({ append: () => undefined, writeJson: () => undefined }),
    log: silent,
    now: Date.now,
    newId: () => `sbx${String(++n).padStart(8, "0")}`,
    ...extra,
  };
}

beforeEach(() => {
  stateDir = mkdtempSync(path.join(tmpdir(), "sbx-sched-"));
  w = world();
});
afterEach(async () => {
  await sched?.drain();
  sched = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

describe("scheduler", () => {
  it("runs 20 queued jobs on capacity 3, never more than 3 at once, each once", async () => {
    w.queued = Array.from({ length: 20 }, (_, i) => job(i + 1));
    sched = createScheduler(options());
    await sched.start();
    await sched.settled();
    expect(w.maxRunning).toBe(3);
    expect(w.reports.map((r) => r.job).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(w.reports.every((r) => r.result.outcome === "success")).toBe(true);
    expect(w.runners.size).toBe(0);
  });

  it("takes a job once whether it comes by webhook, duplicate webhook or reconcile", async () => {
    w.queued = [job(7)];
    sched = createScheduler(options());
    expect(sched.offer(job(7), "webhook", "d-1")).toEqual({ taken: true });
    expect(sched.offer(job(7), "webhook", "d-1")).toEqual({ taken: false, reason: "duplicate" });
    await sched.reconcile();
    await sched.settled();
    expect(w.reports.map((r) => r.job)).toEqual([7]);
  });

  it("ignores jobs for other runners", () => {
    sched = createScheduler(options());
    expect(sched.offer(job(8, ["ubuntu-latest"]), "webhook")).toEqual({
      taken: false,
      reason: "not-ours",
    });
    expect(sched.records()).toEqual([]);
  });

  it("starts no sandbox for a job cancelled while queued", async () => {
    sched = createScheduler(
      options({ capacity: { sandboxes: 1, cpus: 8, memoryBytes: 16 * 2 ** 30 } }),
    );
    w.queued = [job(1), job(2)];
    sched.offer(job(1), "webhook");
    sched.offer(job(2), "webhook");
    // GitHub cancels job 2 while job 1 holds the only slot.
    w.queued = w.queued.filter((q) => q.id !== 2);
    sched.jobChanged(job(2), "completed", null);
    await sched.settled();
    expect(w.reports.map((r) => r.job)).toEqual([1]);
    expect(sched.records().find((r) => r.job.id === 2)).toMatchObject({
      state: "done",
      outcome: "cancelled",
    });
  });

  it("destroys a runner that takes no job before the idle deadline, and deletes it", async () => {
    w.behaviour = () => "idle";
    w.queued = [job(3)];
    sched = createScheduler(options());
    sched.offer(job(3), "webhook");
    await sched.settled();
    expect(sched.records()[0]).toMatchObject({ state: "done", outcome: "idle" });
    expect(w.runners.size).toBe(0);
    expect(w.reports).toEqual([]);
  });

  it("refuses a job whose policy cannot be prepared, and says why", async () => {
    w.queued = [job(4)];
    sched = createScheduler(
      options({
        preparePolicy: async () => {
          throw new Error(".github/sandbox-policy.yml:3:11 memory 64GiB is over the ceiling 16GiB");
        },
      }),
    );
    sched.offer(job(4), "webhook");
    await sched.settled();
    expect(w.reports[0]?.result).toMatchObject({
      outcome: "refused",
      title: expect.stringContaining("over the ceiling") as unknown,
    });
    expect(w.runners.size).toBe(0);
  });

  it("after a crash, reports the running job as infrastructure_error and deletes its runner", async () => {
    const store = openJobStore(stateDir);
    w.runners.set(41, "sbx-test-9-abcdef");
    store.put({
      job: job(9),
      labelSet: "default",
      state: "running",
      queuedAt: 1,
      via: "webhook",
      runnerName: "sbx-test-9-abcdef",
      runnerId: 41,
      sandboxId: "sbx00000001",
    });
    store.put({ job: job(10), labelSet: "default", state: "queued", queuedAt: 2, via: "webhook" });
    w.queued = [job(10)];
    sched = createScheduler(options());
    await sched.start();
    await sched.settled();
    expect(w.runners.size).toBe(0);
    expect(w.reports.find((r) => r.job === 9)?.result.title).toMatch(/^infrastructure_error: /);
    expect(w.reports.find((r) => r.job === 10)?.result.outcome).toBe("success");
    // A second start repeats nothing.
    const before = w.reports.length;
    sched = createScheduler(options());
    await sched.start();
    await sched.settled();
    expect(w.reports.length).toBe(before);
  });

  it("deletes runners a crash left registered under our prefix, and only those", async () => {
    w.runners.set(5, "sbx-test-77-aaaaaa");
    w.runners.set(6, "someone-elses-runner");
    sched = createScheduler(options());
    expect(await sched.removeStrayRunners()).toEqual(["sbx-test-77-aaaaaa"]);
    expect([...w.runners.values()]).toEqual(["someone-elses-runner"]);
  });

  it("takes no new job while draining", async () => {
    sched = createScheduler(options());
    const drained = sched.drain();
    expect(sched.offer(job(11), "webhook")).toEqual({ taken: false, reason: "draining" });
    await drained;
  });
});
