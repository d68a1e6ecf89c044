// The stand-in runner (test/support/runner-standin; not the official runner) on this host,
// against the GitHub emulator: packed deterministically like actions-runner-linux-x64, it checks
// its JIT blob, takes one job, runs the hooks and the script, streams the log and reports.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import type { ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import { buildRunnerStandin } from "../support/runner-standin/pack.js";
import { jitRunner, REPO, startEmulator, tokenClient } from "./helpers.js";

let emulator: GithubEmulator;
let dir: string;
let runnerDir: string;

beforeAll(async () => {
  emulator = await startEmulator();
  emulator.addRepo("octo-org/app");
  dir = mkdtempSync(path.join(tmpdir(), "standin-test-"));
  const { file } = await buildRunnerStandin(path.join(dir, "dist"));
  runnerDir = path.join(dir, "actions-runner");
  await execa("mkdir", ["-p", runnerDir]);
  await execa("tar", ["-xzf", file, "-C", runnerDir]);
});
afterAll(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => expect(emulator.violations()).toEqual([]));

/** A clean environment: no proxy variables from the host, only what the test gives. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, TMPDIR: tmpdir(), ...extra };
}

function runStandin(
  args: string[],
  extra: Record<string, string> = {},
): ResultPromise<{ reject: false; all: true }> {
  return execa("bash", [path.join(runnerDir, "run.sh"), ...args], {
    env: env(extra),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 60_000,
  });
}

const job = (id: number) => emulator.jobs().find((j) => j.id === id)!;
const queue = (script: string, name = "build") =>
  emulator.queueRun("octo-org/app", { jobs: [{ name, labels: ["sandboxed"], script }] }).jobIds[0]!;

describe("the tarball", () => {
  it("is deterministic and laid out like actions-runner-linux-x64", async () => {
    const a = await buildRunnerStandin(path.join(dir, "a"));
    const b = await buildRunnerStandin(path.join(dir, "b"));
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(path.basename(a.file)).toBe("actions-runner-linux-x64-0.0.0-standin.tar.gz");
    const { stdout } = await execa("tar", ["-tvzf", a.file]);
    const entries = stdout.split("\n").map((line) => {
      const [mode, owner, , date, , name] = line.split(/\s+/);
      return { mode, owner, date, name };
    });
    expect(entries.map((e) => e.name)).toEqual([
      "./",
      "./STANDIN-NOT-THE-OFFICIAL-RUNNER",
      "./bin/",
      "./bin/jitconfig.sh",
      "./bin/job.sh",
      "./bin/protocol.sh",
      "./config.sh",
      "./run.sh",
    ]);
    expect(entries.every((e) => e.owner === "0/0" && e.date === "1970-01-01")).toBe(true);
    expect(entries.find((e) => e.name === "./run.sh")!.mode).toBe("-rwxr-xr-x");
  });
});

describe("run.sh on this host", () => {
  it("takes the job, runs the hooks and the script, streams the log, reports success, exits 0", async () => {
    const hooks = path.join(dir, "hooks");
    await execa("mkdir", ["-p", hooks]);
    writeFileSync(
      path.join(hooks, "started.sh"),
      'echo "sandboxed: policy summary for $GITHUB_REPOSITORY"\n',
    );
    writeFileSync(path.join(hooks, "completed"), "#!/bin/sh\necho 'sandboxed: no egress denied'\n");
    chmodSync(path.join(hooks, "completed"), 0o755);
    const id = queue('echo "hello from the job"; echo "workspace=$PWD"; env | sort');
    const runner = await jitRunner(emulator, "sbx-host-1", ["sandboxed"]);
    const result = await runStandin(["--jitconfig", runner.blob], {
      ACTIONS_RUNNER_HOOK_JOB_STARTED: path.join(hooks, "started.sh"),
      ACTIONS_RUNNER_HOOK_JOB_COMPLETED: path.join(hooks, "completed"),
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain("Running job: build");
    expect(result.all).toContain("Job build completed with result: Succeeded");
    expect(job(id)).toMatchObject({
      status: "completed",
      conclusion: "success",
      runner_name: "sbx-host-1",
    });
    const log = emulator.jobLog(id);
    const order = [
      "sandboxed: policy summary for octo-org/app",
      "Run build",
      "hello from the job",
      `workspace=${runnerDir}/_work/app/app`,
      "GITHUB_RUN_ID=",
      "sandboxed: no egress denied",
    ].map((needle) => log.indexOf(needle));
    expect(
      order.every((at) => at >= 0),
      log,
    ).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    // The job sees neither the blob nor the runner's credential.
    expect(log).not.toContain(runner.token);
    expect(log).not.toContain("JITCONFIG");
    expect(emulator.runners().map((r) => r.id)).not.toContain(runner.id);
  });

  it("takes the blob from ACTIONS_RUNNER_INPUT_JITCONFIG; a failing script fails the job, exit still 0", async () => {
    const id = queue("echo before; exit 3", "failing");
    const runner = await jitRunner(emulator, "sbx-host-2", ["sandboxed"]);
    const result = await runStandin([], { ACTIONS_RUNNER_INPUT_JITCONFIG: runner.blob });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain("Job failing completed with result: Failed");
    expect(job(id)).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(emulator.jobLog(id)).toContain("before\nError: Process completed with exit code 3.");
  });

  it("a failing job-started hook fails the job without running the script", async () => {
    const hook = path.join(dir, "refuse.sh");
    writeFileSync(hook, "echo 'policy refused'; exit 1\n");
    const id = queue("echo should not run", "hooked");
    const runner = await jitRunner(emulator, "sbx-host-3", ["sandboxed"]);
    const result = await runStandin(["--jitconfig", runner.blob], {
      ACTIONS_RUNNER_HOOK_JOB_STARTED: hook,
    });
    expect(result.exitCode, result.all).toBe(0);
    expect(job(id).conclusion).toBe("failure");
    expect(emulator.jobLog(id)).toContain("policy refused");
    expect(emulator.jobLog(id)).not.toContain("should not run");
  });

  it("stops the script when the job is cancelled while it runs, and exits 0", async () => {
    const id = queue("echo started; sleep 60; echo never", "long");
    const runner = await jitRunner(emulator, "sbx-host-4", ["sandboxed"]);
    const running = runStandin(["--jitconfig", runner.blob]);
    await emulator.waitFor(() => emulator.jobLog(id).includes("started"), 20_000);
    emulator.cancelJob(id);
    const result = await running;
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain("completed with result: Canceled");
    expect(job(id).conclusion).toBe("cancelled");
    expect(emulator.jobLog(id)).not.toContain("never");
  });

  it("exits 3 when its runner is deleted during the job, which fails", async () => {
    const id = queue("echo started; sleep 60; echo never", "orphan");
    const runner = await jitRunner(emulator, "sbx-host-6", ["sandboxed"]);
    const running = runStandin(["--jitconfig", runner.blob]);
    await emulator.waitFor(() => emulator.jobLog(id).includes("started"), 20_000);
    await tokenClient(emulator).rest.actions.deleteSelfHostedRunnerFromRepo({
      ...REPO,
      runner_id: runner.id,
    });
    const result = await running;
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toContain(
      "Runner registration has been deleted from the server while running orphan",
    );
    expect(job(id).conclusion).toBe("failure");
  });

  it("exits 3 when its runner is deleted before it takes a job", async () => {
    const runner = await jitRunner(emulator, "sbx-host-5", ["nothing-queued-for-this"]);
    await tokenClient(emulator).rest.actions.deleteSelfHostedRunnerFromRepo({
      ...REPO,
      runner_id: runner.id,
    });
    const result = await runStandin(["--jitconfig", runner.blob]);
    expect(result.exitCode).toBe(3);
    expect(result.all).toContain("error: Runner registration has been deleted from the server");
  });

  const b64 = (v: unknown) =>
    Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64");
  it.each([
    { name: "no blob", args: [], says: "no JIT config given" },
    { name: "an unknown argument", args: ["--url", "x"], says: "unknown argument: --url" },
    { name: "not base64", args: ["--jitconfig", "!!!"], says: "is not base64" },
    {
      name: "base64 of text",
      args: ["--jitconfig", b64("hello")],
      says: "not base64 of a JSON object",
    },
    {
      name: "no .credentials",
      args: [
        "--jitconfig",
        b64({ ".runner": b64({ agentId: 1, agentName: "x", serverUrl: "http://github.test" }) }),
      ],
      says: 'has no ".credentials"',
    },
    {
      name: "a .runner without serverUrl",
      args: [
        "--jitconfig",
        b64({
          ".runner": b64({ agentId: 1, agentName: "x" }),
          ".credentials": b64({}),
          ".credentials_rsaparams": b64({}),
        }),
      ],
      says: "needs agentId (number), agentName and an http(s) serverUrl",
    },
    {
      name: "credentials without a token",
      args: [
        "--jitconfig",
        b64({
          ".runner": b64({ agentId: 1, agentName: "x", serverUrl: "http://github.test" }),
          ".credentials": b64({ scheme: "OAuth", data: {} }),
          ".credentials_rsaparams": b64({ modulus: "AQ==", exponent: "AQAB" }),
        }),
      ],
      says: "must be OAuth with a token",
    },
  ])("exits 1 with an error and a hint for $name", async ({ args, says }) => {
    const result = await runStandin(args);
    expect(result.exitCode).toBe(1);
    expect(result.all).toMatch(/^error: /m);
    expect(result.all).toContain(says);
    expect(result.all).toMatch(/hint: /);
  });
});

/** A forward proxy that knows every host as `target` (what a sandbox's egress proxy does). */
async function startForwardProxy(
  target: string,
): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const to = new URL(target);
  const seen: string[] = [];
  const proxy: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/");
    seen.push(`${req.method} ${url.host}${url.pathname}`);
    const upstream = request(
      {
        host: to.hostname,
        port: to.port,
        path: `${url.pathname}${url.search}`,
        method: req.method,
        headers: req.headers,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

describe("through an HTTP proxy, as in a guest", () => {
  it("reaches the blob's serverUrl (http://github.test) through http_proxy", async () => {
    const guestFacing = await startEmulator({ publicUrl: "http://github.test" });
    const proxy = await startForwardProxy(guestFacing.url);
    try {
      guestFacing.addRepo("octo-org/app");
      const { jobIds } = guestFacing.queueRun("octo-org/app", {
        jobs: [{ name: "proxied", labels: ["sandboxed"], script: "echo via proxy" }],
      });
      const runner = await jitRunner(guestFacing, "sbx-guest-1", ["sandboxed"]);
      const result = await runStandin(["--jitconfig", runner.blob], {
        http_proxy: proxy.url,
        https_proxy: proxy.url,
        no_proxy: "localhost",
      });
      expect(result.exitCode, result.all).toBe(0);
      const done = guestFacing.jobs().find((j) => j.id === jobIds[0]);
      expect(done).toMatchObject({
        conclusion: "success",
        log: expect.stringContaining("via proxy") as string,
      });
      expect(proxy.seen).toContain("POST github.test/_runner/acquire");
      expect(proxy.seen).toContain(`POST github.test/_runner/jobs/${jobIds[0]}/complete`);
      expect(guestFacing.violations()).toEqual([]);
    } finally {
      await proxy.close();
      await guestFacing.close();
    }
  });
});
