// The job life the GitHub emulator gives jobs, driven through the runner protocol the stand-in
// runner speaks: queued → in_progress (a runner whose labels cover the job's, oldest job first)
// → completed, with ephemeral JIT runners, cancellation, runner deletion and webhooks on each step.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import {
  acquireBody,
  decodeJit,
  failure,
  jitRunner,
  REPO,
  runnerPost,
  startEmulator,
  startReceiver,
  tokenClient,
} from "./helpers.js";

let emulator: GithubEmulator;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  emulator = await startEmulator({ webhook: { url: receiver.url, secret: "s" } });
  emulator.addRepo("octo-org/app");
  emulator.addRepo("octo-org/lib");
});
afterAll(async () => {
  await emulator.close();
  await receiver.close();
});
afterEach(async () => {
  // Leave no job queued for the next test's runners to take.
  for (const job of emulator.jobs()) if (job.status !== "completed") emulator.cancelJob(job.id);
  for (const runner of emulator.runners()) {
    await tokenClient(emulator)
      .rest.actions.deleteSelfHostedRunnerFromRepo({ ...REPO, runner_id: runner.id })
      .catch(() => undefined);
  }
  await emulator.webhooks.idle();
  expect(emulator.violations()).toEqual([]);
});

const job = (id: number) => emulator.jobs().find((j) => j.id === id)!;
const one = (name: string, labels = ["sandboxed"], repo = "octo-org/app") =>
  emulator.queueRun(repo, { jobs: [{ name, labels, script: `echo ${name}` }] }).jobIds[0]!;
const actionsFor = async (id: number) => {
  await emulator.webhooks.idle();
  return receiver.received
    .map(
      (r) =>
        JSON.parse(r.body) as {
          action: string;
          workflow_job: { id: number; status: string; runner_name: string | null };
        },
    )
    .filter((p) => p.workflow_job.id === id)
    .map((p) => `${p.action}/${p.workflow_job.status}/${p.workflow_job.runner_name ?? "-"}`);
};

describe("a JIT runner and its one job", () => {
  it("takes the oldest job its labels cover, runs it, reports, and is removed", async () => {
    const older = one("older");
    const newer = one("newer");
    const runner = await jitRunner(emulator, "sbx-1", ["sandboxed"]);
    expect(emulator.runners().find((r) => r.id === runner.id)).toMatchObject({
      status: "offline",
      busy: false,
    });

    const acquired = await runnerPost(emulator, "/_runner/acquire", acquireBody(runner));
    expect(acquired.status).toBe(200);
    expect(acquired.json).toMatchObject({
      job: { id: older, name: "older", script: "echo older", repo: "octo-org/app" },
    });
    expect(job(older)).toMatchObject({
      status: "in_progress",
      runner_name: "sbx-1",
      runner_id: runner.id,
    });
    expect(job(newer).status).toBe("queued");
    const viaRest = await tokenClient(emulator).rest.actions.getJobForWorkflowRun({
      ...REPO,
      job_id: older,
    });
    expect(viaRest.data).toMatchObject({
      status: "in_progress",
      runner_name: "sbx-1",
      runner_group_id: 1,
    });
    expect(emulator.runners().find((r) => r.id === runner.id)).toMatchObject({
      status: "online",
      busy: true,
      job_id: older,
    });
    // Asking again (a retry) gives the same job.
    expect(
      (await runnerPost(emulator, "/_runner/acquire", acquireBody(runner))).json,
    ).toMatchObject({ job: { id: older } });

    expect(
      (await runnerPost(emulator, `/_runner/jobs/${older}/log`, "line 1\n", runner.token)).status,
    ).toBe(200);
    expect(
      (await runnerPost(emulator, `/_runner/jobs/${older}/log`, "line 2\n", runner.token)).status,
    ).toBe(200);
    const done = await runnerPost(
      emulator,
      `/_runner/jobs/${older}/complete`,
      '{"conclusion":"success"}',
      runner.token,
    );
    expect(done.status).toBe(200);
    expect(job(older)).toMatchObject({
      status: "completed",
      conclusion: "success",
      log: "line 1\nline 2\n",
    });
    expect(emulator.jobLog(older)).toBe("line 1\nline 2\n");
    expect(emulator.runners().map((r) => r.id)).not.toContain(runner.id);
    expect(await actionsFor(older)).toEqual([
      "queued/queued/-",
      "in_progress/in_progress/sbx-1",
      "completed/completed/sbx-1",
    ]);
    // An ephemeral runner is done after one job.
    const again = await runnerPost(emulator, "/_runner/acquire", acquireBody(runner));
    expect(again).toMatchObject({ status: 410, json: { reason: "finished" } });
  });

  it.each([
    {
      name: "a job label the runner lacks",
      jobLabels: ["sandboxed", "gpu"],
      runnerLabels: ["sandboxed"],
      takes: false,
    },
    {
      name: "labels in another case",
      jobLabels: ["Sandboxed"],
      runnerLabels: ["SANDBOXED"],
      takes: true,
    },
    {
      name: "a runner with more labels than the job",
      jobLabels: ["sandboxed"],
      runnerLabels: ["sandboxed", "big"],
      takes: true,
    },
  ])("label match: $name", async ({ jobLabels, runnerLabels, takes }) => {
    const id = one("labelled", jobLabels);
    const runner = await jitRunner(emulator, "sbx-labels", runnerLabels);
    const acquired = await runnerPost(emulator, "/_runner/acquire", acquireBody(runner));
    expect(acquired.status).toBe(takes ? 200 : 204);
    expect(job(id).status).toBe(takes ? "in_progress" : "queued");
  });

  it("a repository runner takes only its repository's jobs; an organization runner any of the org's", async () => {
    const libJob = one("lib job", ["sandboxed"], "octo-org/lib");
    const repoRunner = await jitRunner(emulator, "sbx-app", ["sandboxed"]);
    expect((await runnerPost(emulator, "/_runner/acquire", acquireBody(repoRunner))).status).toBe(
      204,
    );
    const { data } = await tokenClient(emulator).rest.actions.generateRunnerJitconfigForOrg({
      org: "octo-org",
      name: "sbx-org",
      labels: ["sandboxed"],
      runner_group_id: 1,
    });
    const orgRunner = {
      id: data.runner.id,
      token: decodeJit(data.encoded_jit_config).credentials.data.token,
    };
    const acquired = await runnerPost(emulator, "/_runner/acquire", acquireBody(orgRunner));
    expect(acquired.json).toMatchObject({ job: { id: libJob, repo: "octo-org/lib" } });
    await tokenClient(emulator).rest.actions.deleteSelfHostedRunnerFromOrg({
      org: "octo-org",
      runner_id: orgRunner.id,
    });
  });

  it.each([
    {
      name: "a wrong token",
      body: (r: { id: number }) =>
        JSON.stringify({ agentId: r.id, credentials: { data: { token: "nope" } } }),
      status: 401,
    },
    {
      name: "another runner's id",
      body: (r: { id: number; token: string }) =>
        JSON.stringify({ agentId: r.id + 1000, credentials: { data: { token: r.token } } }),
      status: 401,
    },
    {
      name: "no credentials",
      body: (r: { id: number }) => JSON.stringify({ agentId: r.id }),
      status: 401,
    },
    { name: "a body that is not JSON", body: () => "{", status: 400 },
  ])("acquire refuses $name", async ({ body, status }) => {
    const runner = await jitRunner(emulator, "sbx-creds", ["sandboxed"]);
    expect((await runnerPost(emulator, "/_runner/acquire", body(runner))).status).toBe(status);
  });

  it("log and complete need the runner holding the job, and a known conclusion", async () => {
    const id = one("guarded");
    const holder = await jitRunner(emulator, "sbx-holder", ["sandboxed"]);
    const other = await jitRunner(emulator, "sbx-other", ["nothing-matches"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(holder));
    expect((await runnerPost(emulator, `/_runner/jobs/${id}/log`, "x", other.token)).status).toBe(
      401,
    );
    expect(
      (
        await runnerPost(
          emulator,
          `/_runner/jobs/${id}/complete`,
          '{"conclusion":"great"}',
          holder.token,
        )
      ).status,
    ).toBe(400);
    expect(job(id).status).toBe("in_progress");
  });
});

describe("runs, cancellation and deletion", () => {
  it("a run is in_progress while one job is done and another queued, then completed", async () => {
    const { runId, jobIds } = emulator.queueRun("octo-org/app", {
      jobs: [
        { name: "a", labels: ["sandboxed"], script: "" },
        { name: "b", labels: ["sandboxed", "later"], script: "" },
      ],
    });
    const status = async () =>
      (await tokenClient(emulator).rest.actions.getWorkflowRun({ ...REPO, run_id: runId })).data
        .status;
    expect(await status()).toBe("queued");
    const first = await jitRunner(emulator, "sbx-a", ["sandboxed"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(first));
    await runnerPost(
      emulator,
      `/_runner/jobs/${jobIds[0]}/complete`,
      '{"conclusion":"failure"}',
      first.token,
    );
    expect(await status()).toBe("in_progress");
    const inProgress = await tokenClient(emulator).rest.actions.listWorkflowRunsForRepo({
      ...REPO,
      status: "in_progress",
    });
    expect(inProgress.data.workflow_runs.map((r) => r.id)).toContain(runId);
    const second = await jitRunner(emulator, "sbx-b", ["sandboxed", "later"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(second));
    await runnerPost(
      emulator,
      `/_runner/jobs/${jobIds[1]}/complete`,
      '{"conclusion":"success"}',
      second.token,
    );
    const done = await tokenClient(emulator).rest.actions.listWorkflowRunsForRepo({
      ...REPO,
      status: "completed",
    });
    expect(done.data.workflow_runs.find((r) => r.id === runId)).toMatchObject({
      status: "completed",
      conclusion: "failure",
    });
  });

  it("cancelling a queued job completes it as cancelled, with a webhook", async () => {
    const id = one("doomed");
    emulator.cancelJob(id);
    expect(job(id)).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
      runner_name: null,
    });
    expect(await actionsFor(id)).toEqual(["queued/queued/-", "completed/completed/-"]);
    const runner = await jitRunner(emulator, "sbx-late", ["sandboxed"]);
    expect((await runnerPost(emulator, "/_runner/acquire", acquireBody(runner))).status).toBe(204);
  });

  it("cancelling a running job tells its runner (410 cancelled) and removes the runner", async () => {
    const id = one("stopped");
    const runner = await jitRunner(emulator, "sbx-stop", ["sandboxed"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(runner));
    emulator.cancelJob(id);
    expect(await runnerPost(emulator, `/_runner/jobs/${id}/log`, "x", runner.token)).toMatchObject({
      status: 410,
      json: { reason: "cancelled" },
    });
    expect(emulator.runners().map((r) => r.id)).not.toContain(runner.id);
  });

  it("deleting a busy runner fails its job, with a completed webhook; the runner hears 410 deleted", async () => {
    const id = one("orphaned");
    const runner = await jitRunner(emulator, "sbx-busy", ["sandboxed"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(runner));
    const deleted = await tokenClient(emulator).rest.actions.deleteSelfHostedRunnerFromRepo({
      ...REPO,
      runner_id: runner.id,
    });
    expect(deleted.status).toBe(204);
    expect(job(id)).toMatchObject({ status: "completed", conclusion: "failure" });
    expect((await actionsFor(id)).at(-1)).toBe("completed/completed/sbx-busy");
    expect(
      await runnerPost(
        emulator,
        `/_runner/jobs/${id}/complete`,
        '{"conclusion":"success"}',
        runner.token,
      ),
    ).toMatchObject({
      status: 410,
      json: { reason: "deleted" },
    });
    expect(job(id).conclusion).toBe("failure");
  });

  it("an idle runner deleted before it takes a job hears 410 deleted", async () => {
    const runner = await jitRunner(emulator, "sbx-idle", ["sandboxed"]);
    await tokenClient(emulator).rest.actions.deleteSelfHostedRunnerFromRepo({
      ...REPO,
      runner_id: runner.id,
    });
    expect(await runnerPost(emulator, "/_runner/acquire", acquireBody(runner))).toMatchObject({
      status: 410,
      json: { reason: "deleted" },
    });
  });

  it("with busyRunnerDelete: refuse, deleting a busy runner is a 422 and the job carries on", async () => {
    const strict = await startEmulator({ busyRunnerDelete: "refuse" });
    try {
      strict.addRepo("octo-org/app");
      const id = strict.queueRun("octo-org/app", {
        jobs: [{ name: "j", labels: ["sandboxed"], script: "" }],
      }).jobIds[0]!;
      const runner = await jitRunner(strict, "sbx-strict", ["sandboxed"]);
      await runnerPost(strict, "/_runner/acquire", acquireBody(runner));
      const error = await failure(
        tokenClient(strict).rest.actions.deleteSelfHostedRunnerFromRepo({
          ...REPO,
          runner_id: runner.id,
        }),
      );
      expect(error.status).toBe(422);
      expect((error.response?.data as { message: string }).message).toContain(
        "is still running a job",
      );
      expect(strict.jobs().find((j) => j.id === id)!.status).toBe("in_progress");
      expect(strict.violations()).toEqual([]);
    } finally {
      await strict.close();
    }
  });
});

describe("bookkeeping", () => {
  it("tracks the most jobs ever running at once", async () => {
    const ids = [one("p1"), one("p2"), one("p3"), one("p4")];
    const runners = await Promise.all(
      ["sbx-p1", "sbx-p2", "sbx-p3"].map((n) => jitRunner(emulator, n, ["sandboxed"])),
    );
    for (const r of runners) await runnerPost(emulator, "/_runner/acquire", acquireBody(r));
    expect(emulator.maxConcurrentRunning()).toBeGreaterThanOrEqual(3);
    const peak = emulator.maxConcurrentRunning();
    await runnerPost(
      emulator,
      `/_runner/jobs/${ids[0]}/complete`,
      '{"conclusion":"success"}',
      runners[0]!.token,
    );
    const fourth = await jitRunner(emulator, "sbx-p4", ["sandboxed"]);
    await runnerPost(emulator, "/_runner/acquire", acquireBody(fourth));
    expect(job(ids[3]!).status).toBe("in_progress");
    expect(emulator.maxConcurrentRunning()).toBe(peak);
  });

  it("waitFor resolves on the change it waits for, and rejects after its timeout", async () => {
    const id = one("watched");
    const waiting = emulator.waitFor(() => job(id).status === "completed");
    emulator.cancelJob(id);
    await expect(waiting).resolves.toBeUndefined();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const never = emulator.waitFor(() => false, 5_000);
      vi.advanceTimersByTime(5_000);
      await expect(never).rejects.toThrow(/within 5000 ms/);
    } finally {
      vi.useRealTimers();
    }
  });
});
