// The GitHub client with a token, against the GitHub emulator: listing queued jobs, one job, JIT
// runners, the repository's policy file, commit statuses, and retries of 5xx and rate limits.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireWith, rejection, startWorld } from "./helpers.js";
import type { World } from "./helpers.js";

let world: World;

beforeEach(async () => {
  world = await startWorld("token");
  world.emulator.addRepo("octo-org/app", {
    ownerType: "Organization",
    files: { ".github/sandbox-policy.yml": "apiVersion: x\n" },
  });
  world.emulator.addRepo("octo-org/lib", { ownerType: "Organization" });
});

afterEach(async () => {
  expect(world.emulator.violations()).toEqual([]);
  await world.emulator.close();
});

const job = (name: string, labels = ["sandboxed"]) => ({ name, labels, script: "true" });

describe("listQueuedJobs", () => {
  it("lists the queued jobs of every repository in scope", async () => {
    const a = world.emulator.queueRun("octo-org/app", {
      jobs: [job("build"), job("test")],
      headSha: "a".repeat(40),
    });
    const b = world.emulator.queueRun("octo-org/lib", {
      jobs: [job("lint", ["sandboxed", "big"])],
    });
    const jobs = await world.client.listQueuedJobs({
      repositories: ["octo-org/app", "octo-org/lib"],
    });
    expect(jobs.map((j) => j.id).sort()).toEqual([...a.jobIds, ...b.jobIds].sort());
    expect(jobs.find((j) => j.id === a.jobIds[0])).toMatchObject({
      runId: a.runId,
      runAttempt: 1,
      repo: "octo-org/app",
      name: "build",
      labels: ["sandboxed"],
      headSha: "a".repeat(40),
      status: "queued",
      conclusion: null,
      runnerName: null,
    });
    expect(jobs.find((j) => j.id === b.jobIds[0])?.labels).toEqual(["sandboxed", "big"]);
    expect(jobs.every((j) => j.installationId === undefined)).toBe(true);
  });

  it("finds a queued job in a run already in progress", async () => {
    const run = world.emulator.queueRun("octo-org/app", {
      jobs: [job("first", ["sandboxed", "one"]), job("second", ["sandboxed", "two"])],
    });
    const jit = await world.client.generateJitConfig(
      { repo: "octo-org/app" },
      { name: "sbx-1", labels: ["sandboxed", "one"] },
    );
    expect(await acquireWith(world.emulator, jit.jitConfig.reveal())).toBe(200);
    expect(world.emulator.jobs().find((j) => j.id === run.jobIds[0])?.status).toBe("in_progress");

    const jobs = await world.client.listQueuedJobs({ repositories: ["octo-org/app"] });
    expect(jobs.map((j) => j.id)).toEqual([run.jobIds[1]]);
    const asked = world.emulator.requests().map((r) => r.path);
    expect(asked).toContain("/repos/octo-org/app/actions/runs?status=in_progress&per_page=100");
  });

  it("lists an organization's repositories through /orgs/{org}/repos with a token", async () => {
    const run = world.emulator.queueRun("octo-org/lib", { jobs: [job("lint")] });
    const jobs = await world.client.listQueuedJobs({ organization: "octo-org" });
    expect(jobs.map((j) => [j.id, j.org])).toEqual([[run.jobIds[0], "octo-org"]]);
    expect(world.emulator.requests().map((r) => r.route)).toContain("/orgs/{org}/repos");
  });

  it("skips a repository that fails and serves the others", async () => {
    const run = world.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    const jobs = await world.client.listQueuedJobs({
      repositories: ["octo-org/gone", "octo-org/app"],
    });
    expect(jobs.map((j) => j.id)).toEqual(run.jobIds);
    expect(world.lines).toContainEqual(
      expect.objectContaining({
        level: "warn",
        obj: expect.objectContaining({ repo: "octo-org/gone" }),
      }),
    );
  });

  it("fails when every repository fails", async () => {
    const error = await rejection(world.client.listQueuedJobs({ repositories: ["octo-org/gone"] }));
    expect(error.code).toBe("SBX_GITHUB_API");
    expect(error.message).toMatch(
      /^GitHub API GET \/repos\/octo-org\/gone\/actions\/runs failed: 404 /,
    );
  });
});

describe("getJob", () => {
  it("returns the job, or undefined when GitHub has none", async () => {
    const run = world.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    expect(await world.client.getJob("octo-org/app", run.jobIds[0]!)).toMatchObject({
      id: run.jobIds[0],
      status: "queued",
    });
    expect(await world.client.getJob("octo-org/app", 999_999)).toBeUndefined();
  });

  it("sees a job cancelled while queued", async () => {
    const run = world.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    world.emulator.cancelJob(run.jobIds[0]!);
    expect(await world.client.getJob("octo-org/app", run.jobIds[0]!)).toMatchObject({
      status: "completed",
      conclusion: "cancelled",
    });
  });
});

describe("JIT runners", () => {
  it("generates a JIT config, lists the runner by prefix and deletes it", async () => {
    const target = { repo: "octo-org/app" };
    const jit = await world.client.generateJitConfig(target, {
      name: "sbx-host-1",
      labels: ["sandboxed"],
      runnerGroupId: 9, // ignored for a repository: its runners are in group 1
      workFolder: "_work",
    });
    expect(jit.runnerName).toBe("sbx-host-1");
    expect(`${jit.jitConfig}`).toBe("[redacted]");
    expect(JSON.stringify(jit)).not.toContain(jit.jitConfig.reveal());
    expect(
      Object.keys(JSON.parse(Buffer.from(jit.jitConfig.reveal(), "base64").toString())),
    ).toEqual([".runner", ".credentials", ".credentials_rsaparams"]);
    expect(world.emulator.runners()).toMatchObject([
      { id: jit.runnerId, runner_group_id: 1, target },
    ]);

    await world.client.generateJitConfig(target, { name: "other-1", labels: ["x"] });
    // Offline: no runner has connected with the blob yet.
    const listed = await world.client.listRunners(target, { namePrefix: "sbx-host-" });
    expect(listed).toEqual([
      { id: jit.runnerId, name: "sbx-host-1", busy: false, status: "offline" },
    ]);

    await world.client.deleteRunner(target, jit.runnerId);
    expect(await world.client.listRunners(target, { namePrefix: "sbx-" })).toEqual([]);
    expect(JSON.stringify(world.lines)).not.toContain(jit.jitConfig.reveal());
    // Deleting it again: already gone is fine.
    await world.client.deleteRunner(target, jit.runnerId);
  });

  it("fails clearly on a runner name GitHub already has (409)", async () => {
    await world.client.generateJitConfig(
      { repo: "octo-org/app" },
      { name: "sbx-dup", labels: ["sandboxed"] },
    );
    const error = await rejection(
      world.client.generateJitConfig(
        { repo: "octo-org/app" },
        { name: "sbx-dup", labels: ["sandboxed"] },
      ),
    );
    expect(error).toEqual({
      code: "SBX_GITHUB_RUNNER_NAME_TAKEN",
      message:
        'GitHub already has a runner named "sbx-dup" on octo-org/app (409 from generate-jitconfig)',
      hint: "Runner names must be unique: delete the stale runner (sandboxed gc) or generate another name.",
    });
    // A 409 is not retried.
    expect(world.emulator.requests().filter((r) => r.status === 409)).toHaveLength(1);
  });

  it("registers organization runners in the given group", async () => {
    const jit = await world.client.generateJitConfig(
      { org: "octo-org" },
      { name: "sbx-org-1", labels: ["sandboxed"], runnerGroupId: 1 },
    );
    expect(world.emulator.runners()).toMatchObject([
      { id: jit.runnerId, target: { org: "octo-org" }, runner_group_id: 1 },
    ]);
    expect(
      await world.client.listRunners({ org: "octo-org" }, { namePrefix: "sbx-org-" }),
    ).toHaveLength(1);
    await world.client.deleteRunner({ org: "octo-org" }, jit.runnerId);
    expect(world.emulator.runners()).toEqual([]);
  });
});

describe("readRepoFile", () => {
  it("reads a file of the default branch, undefined when there is none", async () => {
    expect(await world.client.readRepoFile("octo-org/app", ".github/sandbox-policy.yml")).toBe(
      "apiVersion: x\n",
    );
    expect(
      await world.client.readRepoFile("octo-org/lib", ".github/sandbox-policy.yml"),
    ).toBeUndefined();
    // 404s answer our question: they are no API error.
    expect(world.apiErrors).toEqual([]);
  });
});

describe("reportJob with a token", () => {
  it("sets a commit status (check runs need an App)", async () => {
    await world.client.reportJob("octo-org/app", "b".repeat(40), {
      name: "sandboxed: build",
      conclusion: "cancelled",
      title: "Cancelled before a runner took it",
      summary: "long markdown the status cannot hold",
      detailsUrl: "https://github.com/octo-org/app/actions/runs/1",
    });
    expect(world.emulator.checkRuns()).toEqual([]);
    expect(world.emulator.statuses()).toMatchObject([
      {
        repo: "octo-org/app",
        sha: "b".repeat(40),
        state: "error",
        context: "sandboxed: build",
        description: "Cancelled before a runner took it",
        target_url: "https://github.com/octo-org/app/actions/runs/1",
      },
    ]);
  });

  it("redelivers nothing: only an App has a delivery log", async () => {
    expect(await world.client.redeliverFailed(0)).toBe(0);
  });
});

describe("retries", () => {
  it.each([
    { name: "500 twice, then success", reply: 500, times: 2, counted: [500, 500] },
    { name: "503 once, then success", reply: 503, times: 1, counted: [503] },
    {
      name: "a primary rate limit (403), then success",
      reply: "rate-limit",
      times: 1,
      counted: [403],
    },
    {
      name: "a secondary rate limit (403), then success",
      reply: "secondary-rate-limit",
      times: 1,
      counted: [403],
    },
  ] as const)("$name: no job lost", async ({ reply, times, counted }) => {
    const run = world.emulator.queueRun("octo-org/app", { jobs: [job("build")] });
    world.emulator.faults.add({
      path: `/repos/octo-org/app/actions/runs/${run.runId}/jobs`,
      reply,
      times,
    });
    const jobs = await world.client.listQueuedJobs({ repositories: ["octo-org/app"] });
    expect(jobs.map((j) => j.id)).toEqual(run.jobIds);
    expect(world.emulator.requests().filter((r) => r.fault)).toHaveLength(times);
    expect(world.apiErrors).toEqual(counted);
    if (typeof reply === "string") {
      expect(world.lines).toContainEqual(
        expect.objectContaining({
          level: "warn",
          msg: expect.stringMatching(/rate limit: retrying/),
        }),
      );
    }
  });

  it("gives up on 5xx after the configured retries, with a clear error", async () => {
    world.emulator.faults.add({
      path: "/repos/octo-org/app/actions/jobs/1",
      reply: 502,
      times: 10,
    });
    const error = await rejection(world.client.getJob("octo-org/app", 1));
    expect(error).toEqual({
      code: "SBX_GITHUB_API",
      message: "GitHub API GET /repos/octo-org/app/actions/jobs/1 failed: 502 Server Error",
      hint: "GitHub failed through 3 retries; see https://www.githubstatus.com, or check github.apiUrl.",
    });
    expect(world.emulator.requests().filter((r) => r.fault)).toHaveLength(4);
  });

  it("gives up on a rate limit that holds through the retries", async () => {
    world.emulator.faults.add({
      method: "POST",
      path: /generate-jitconfig$/,
      reply: "rate-limit",
      times: 10,
    });
    const error = await rejection(
      world.client.generateJitConfig(
        { repo: "octo-org/app" },
        { name: "sbx-r", labels: ["sandboxed"] },
      ),
    );
    expect(error.code).toBe("SBX_GITHUB_API");
    expect(error.message).toMatch(
      /^GitHub API POST \/repos\/octo-org\/app\/actions\/runners\/generate-jitconfig failed: 403 API rate limit exceeded/,
    );
    expect(error.hint).toBe(
      "GitHub's rate limit held through 3 retries; the reconcile loop tries again later. Lower reconcile frequency or spread the scope over several Apps.",
    );
    expect(world.lines).toContainEqual(
      expect.objectContaining({ level: "error", msg: "GitHub rate limit: giving up" }),
    );
    expect(world.emulator.runners()).toEqual([]);
  });
});
