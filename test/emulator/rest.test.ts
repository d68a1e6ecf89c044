// The GitHub emulator's REST surface through @octokit/rest with a token: GitHub's paths, bodies
// and error shapes, every reply checked against @octokit/openapi (violations() stays empty).
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadOpenApi } from "../support/github-emulator/openapi.js";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import { decodeJit, failure, REPO, startEmulator, TOKEN, tokenClient } from "./helpers.js";

let emulator: GithubEmulator;
const POLICY = "apiVersion: sandboxed/v1\nkind: Policy\n";

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.addRepo("octo-org/app", { files: { ".github/sandbox-policy.yml": POLICY } });
  emulator.addRepo("octo-org/lib", { defaultBranch: "trunk" });
});
afterAll(() => emulator.close());
afterEach(() => expect(emulator.violations()).toEqual([]));

const octokit = () => tokenClient(emulator);

describe("authentication", () => {
  it.each([
    { name: "no token", auth: null, message: "Requires authentication" },
    { name: "a wrong token", auth: "ghp_wrong", message: "Bad credentials" },
  ])("$name → 401 with GitHub's error body", async ({ auth, message }) => {
    const error = await failure(tokenClient(emulator, auth).rest.repos.get({ ...REPO }));
    expect(error.status).toBe(401);
    expect(error.response?.data).toMatchObject({
      message,
      documentation_url: expect.stringContaining("docs.github.com") as string,
    });
  });

  it("answers GitHub's usual headers", async () => {
    const { headers } = await octokit().rest.repos.get({ ...REPO });
    expect(headers["x-github-api-version-selected"]).toBe("2022-11-28");
    expect(headers["x-ratelimit-remaining"]).toBeDefined();
  });
});

describe("repositories and contents", () => {
  it("serves the repository with its default branch", async () => {
    const { data } = await octokit().rest.repos.get({ owner: "octo-org", repo: "lib" });
    expect(data).toMatchObject({
      full_name: "octo-org/lib",
      default_branch: "trunk",
      private: true,
    });
    expect(data.owner.login).toBe("octo-org");
  });

  it("serves a file base64-encoded, and raw on request", async () => {
    const { data } = await octokit().rest.repos.getContent({
      ...REPO,
      path: ".github/sandbox-policy.yml",
    });
    expect(data).toMatchObject({
      type: "file",
      encoding: "base64",
      path: ".github/sandbox-policy.yml",
    });
    const content = (data as { content: string }).content;
    expect(Buffer.from(content, "base64").toString()).toBe(POLICY);
    const raw = await octokit().rest.repos.getContent({
      ...REPO,
      path: ".github/sandbox-policy.yml",
      mediaType: { format: "raw" },
    });
    expect(raw.data).toBe(POLICY);
  });

  it.each([
    { name: "absent file", path: "missing.yml", ref: undefined },
    { name: "unknown ref", path: ".github/sandbox-policy.yml", ref: "nope" },
  ])("404 for an $name", async ({ path, ref }) => {
    const error = await failure(
      octokit().rest.repos.getContent({ ...REPO, path, ...(ref ? { ref } : {}) }),
    );
    expect(error.status).toBe(404);
  });

  it("404 for an unknown repository, with GitHub's body", async () => {
    const error = await failure(octokit().rest.repos.get({ owner: "octo-org", repo: "nope" }));
    expect(error.status).toBe(404);
    expect(error.response?.data).toMatchObject({ message: "Not Found" });
  });

  it("lists an organization's repositories", async () => {
    const { data } = await octokit().rest.repos.listForOrg({ org: "octo-org" });
    expect(data.map((r) => r.full_name).sort()).toEqual(["octo-org/app", "octo-org/lib"]);
  });
});

describe("workflow runs and jobs", () => {
  it("lists queued runs, paginated with Link headers, and their jobs", async () => {
    const runs = Array.from({ length: 5 }, (_, i) =>
      emulator.queueRun("octo-org/lib", {
        jobs: [
          { name: `build ${i}`, labels: ["sandboxed"], script: "true" },
          { name: `test ${i}`, labels: ["sandboxed", "gpu"], script: "true" },
        ],
      }),
    );
    const first = await octokit().rest.actions.listWorkflowRunsForRepo({
      owner: "octo-org",
      repo: "lib",
      status: "queued",
      per_page: 2,
    });
    expect(first.data.total_count).toBe(5);
    expect(first.data.workflow_runs).toHaveLength(2);
    expect(first.headers.link).toMatch(/rel="next".*rel="last"/);
    const all = await octokit().paginate(octokit().rest.actions.listWorkflowRunsForRepo, {
      owner: "octo-org",
      repo: "lib",
      status: "queued",
      per_page: 2,
    });
    expect(all.map((r) => r.id).sort()).toEqual(runs.map((r) => r.runId).sort());
    expect(all.every((r) => r.status === "queued")).toBe(true);
    const { data } = await octokit().rest.actions.listJobsForWorkflowRun({
      owner: "octo-org",
      repo: "lib",
      run_id: runs[0]!.runId,
    });
    expect(data.jobs.map((j) => [j.id, j.name, j.status, j.labels])).toEqual([
      [runs[0]!.jobIds[0], "build 0", "queued", ["sandboxed"]],
      [runs[0]!.jobIds[1], "test 0", "queued", ["sandboxed", "gpu"]],
    ]);
    const job = await octokit().rest.actions.getJobForWorkflowRun({
      owner: "octo-org",
      repo: "lib",
      job_id: runs[0]!.jobIds[1]!,
    });
    expect(job.data).toMatchObject({ run_id: runs[0]!.runId, runner_name: null, conclusion: null });
    for (const run of runs) for (const id of run.jobIds) emulator.cancelJob(id);
  });

  it("404 for a job of another repository", async () => {
    const { jobIds } = emulator.queueRun("octo-org/lib", {
      jobs: [{ name: "x", labels: ["a"], script: "" }],
    });
    const error = await failure(
      octokit().rest.actions.getJobForWorkflowRun({ ...REPO, job_id: jobIds[0]! }),
    );
    expect(error.status).toBe(404);
    emulator.cancelJob(jobIds[0]!);
  });
});

describe("self-hosted runners", () => {
  it("makes a JIT config for a repository: 201, the runner and the official blob format", async () => {
    const { status, data } = await octokit().rest.actions.generateRunnerJitconfigForRepo({
      ...REPO,
      name: "sbx-repo-1",
      labels: ["sandboxed"],
      runner_group_id: 1,
      work_folder: "_work",
    });
    expect(status).toBe(201);
    expect(data.runner).toMatchObject({ name: "sbx-repo-1", status: "offline", busy: false });
    const blob = decodeJit(data.encoded_jit_config);
    expect(blob.runner).toMatchObject({
      agentId: data.runner.id,
      agentName: "sbx-repo-1",
      poolId: 1,
      serverUrl: emulator.publicUrl,
      workFolder: "_work",
    });
    expect(blob.credentials).toMatchObject({
      scheme: "OAuth",
      data: { token: expect.any(String) as string },
    });
    expect(Object.keys(blob.rsa).sort()).toEqual([
      "d",
      "dp",
      "dq",
      "exponent",
      "inverseQ",
      "modulus",
      "p",
      "q",
    ]);
    expect(emulator.runners().map((r) => r.name)).toContain("sbx-repo-1");
  });

  it.each([
    {
      name: "runner_group_id missing",
      body: { name: "a", labels: ["x"] },
      says: '"runner_group_id" wasn\'t supplied.',
    },
    {
      name: "name missing",
      body: { runner_group_id: 1, labels: ["x"] },
      says: '"name" wasn\'t supplied.',
    },
    {
      name: "labels missing",
      body: { name: "a", runner_group_id: 1 },
      says: '"labels" wasn\'t supplied.',
    },
    { name: "labels empty", body: { name: "a", runner_group_id: 1, labels: [] }, says: "labels" },
  ])("422 when $name", async ({ body, says }) => {
    const error = await failure(
      octokit().request("POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig", {
        ...REPO,
        ...(body as { name: string; runner_group_id: number; labels: string[] }),
      }),
    );
    expect(error.status).toBe(422);
    expect((error.response?.data as { message: string }).message).toContain(says);
  });

  it("409 for a duplicate name; the organization endpoint and its group check", async () => {
    const org = { org: "octo-org", labels: ["sandboxed"], runner_group_id: 1 };
    await octokit().rest.actions.generateRunnerJitconfigForOrg({ ...org, name: "sbx-org-1" });
    const dup = await failure(
      octokit().rest.actions.generateRunnerJitconfigForOrg({ ...org, name: "sbx-org-1" }),
    );
    expect(dup.status).toBe(409);
    expect((dup.response?.data as { message: string }).message).toMatch(/Already exists/);
    const group = await failure(
      octokit().rest.actions.generateRunnerJitconfigForOrg({
        ...org,
        name: "sbx-org-2",
        runner_group_id: 9,
      }),
    );
    expect(group.status).toBe(404);
    const { data } = await octokit().rest.actions.listSelfHostedRunnersForOrg({
      org: "octo-org",
      name: "sbx-org-1",
    });
    expect(data.runners.map((r) => r.name)).toEqual(["sbx-org-1"]);
    const runner = await octokit().rest.actions.getSelfHostedRunnerForOrg({
      org: "octo-org",
      runner_id: data.runners[0]!.id,
    });
    expect(runner.data.labels.map((l) => l.name)).toEqual(["sandboxed"]);
    await octokit().rest.actions.deleteSelfHostedRunnerFromOrg({
      org: "octo-org",
      runner_id: data.runners[0]!.id,
    });
    const gone = await failure(
      octokit().rest.actions.deleteSelfHostedRunnerFromOrg({
        org: "octo-org",
        runner_id: data.runners[0]!.id,
      }),
    );
    expect(gone.status).toBe(404);
  });

  it("lists, gets and deletes a repository's runners", async () => {
    const { data: created } = await octokit().rest.actions.generateRunnerJitconfigForRepo({
      ...REPO,
      name: "sbx-repo-2",
      labels: ["sandboxed", "Linux"],
      runner_group_id: 1,
    });
    const list = await octokit().rest.actions.listSelfHostedRunnersForRepo({
      ...REPO,
      name: "sbx-repo-2",
    });
    expect(list.data.runners.map((r) => r.id)).toEqual([created.runner.id]);
    const one = await octokit().rest.actions.getSelfHostedRunnerForRepo({
      ...REPO,
      runner_id: created.runner.id,
    });
    expect(one.data.labels).toEqual([
      { id: 1, name: "sandboxed", type: "custom" },
      { id: 2, name: "Linux", type: "read-only" },
    ]);
    const deleted = await octokit().rest.actions.deleteSelfHostedRunnerFromRepo({
      ...REPO,
      runner_id: created.runner.id,
    });
    expect(deleted.status).toBe(204);
    const after = await failure(
      octokit().rest.actions.getSelfHostedRunnerForRepo({ ...REPO, runner_id: created.runner.id }),
    );
    expect(after.status).toBe(404);
  });
});

describe("reporting", () => {
  it("creates a commit status: 201 with Location", async () => {
    const { status, headers, data } = await octokit().rest.repos.createCommitStatus({
      ...REPO,
      sha: "a".repeat(40),
      state: "failure",
      context: "sandboxed: build",
      description: "infrastructure_error",
      target_url: "https://example.test/jobs/1",
    });
    expect(status).toBe(201);
    expect(headers.location).toBe(`${emulator.url}/repos/octo-org/app/statuses/${"a".repeat(40)}`);
    expect(data).toMatchObject({ state: "failure", context: "sandboxed: build" });
    expect(emulator.statuses().at(-1)).toMatchObject({ sha: "a".repeat(40), state: "failure" });
  });

  it("422 for a status description over 140 characters, as GitHub", async () => {
    const error = await failure(
      octokit().rest.repos.createCommitStatus({
        ...REPO,
        sha: "b".repeat(40),
        state: "success",
        description: "x".repeat(141),
      }),
    );
    expect(error.status).toBe(422);
  });

  it("403 for a check run written with a personal token: only Apps may", async () => {
    const error = await failure(
      octokit().rest.checks.create({ ...REPO, name: "x", head_sha: "c".repeat(40) }),
    );
    expect(error.status).toBe(403);
    expect((error.response?.data as { message: string }).message).toBe(
      "You must authenticate via a GitHub App.",
    );
  });
});

describe("listening on a unix socket", () => {
  it("serves over the socket, replacing a stale socket file, with publicUrl as its URL", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "emulator-sock-"));
    const socket = path.join(dir, "github.sock");
    // A process that exits without closing leaves its socket file behind, as a killed run does.
    await execa(process.execPath, [
      "-e",
      "require('net').createServer().listen(process.argv[1], () => process.exit(0))",
      socket,
    ]);
    const onSocket = await startEmulator({
      listen: { path: socket },
      publicUrl: "http://github.test",
    });
    try {
      onSocket.addRepo("octo-org/app");
      expect(onSocket.url).toBe("http://github.test");
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          {
            socketPath: socket,
            path: "/repos/octo-org/app",
            headers: { authorization: `token ${TOKEN}`, host: "93.184.216.40" },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(200);
      expect(onSocket.violations()).toEqual([]);
    } finally {
      await onSocket.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the OpenAPI check itself", () => {
  const json = { "content-type": "application/json; charset=utf-8" };
  it.each([
    {
      name: "a job without its fields",
      route: "/repos/{owner}/{repo}/actions/jobs/{job_id}",
      method: "GET",
      status: 200,
      body: '{"id":1}',
      finds: "required property",
    },
    {
      name: "an error without GitHub's shape",
      route: "/repos/{owner}/{repo}/actions/jobs/{job_id}",
      method: "GET",
      status: 404,
      body: '{"message":3}',
      finds: "must be string",
    },
    {
      name: "a body on 204",
      route: "/repos/{owner}/{repo}/actions/runners/{runner_id}",
      method: "DELETE",
      status: 204,
      body: "{}",
      finds: "no body",
    },
    {
      name: "an undocumented success",
      route: "/repos/{owner}/{repo}",
      method: "GET",
      status: 202,
      body: "{}",
      finds: "not documented",
    },
  ])("catches $name", async ({ route, method, status, body, finds }) => {
    const api = await loadOpenApi();
    const problems = api.checkResponse({ method, route, status, headers: json, body });
    expect(problems.join("\n")).toContain(finds);
  });

  it("records nothing for this file's traffic (each test asserts violations() is empty)", () => {
    expect(emulator.requests().length).toBeGreaterThan(20);
    expect(emulator.requests().every((r) => r.route !== undefined)).toBe(true);
    expect(TOKEN).toMatch(/^ghp_/);
  });
});
