// `sandboxed run` end to end in real sandboxes (issues 5 and 7): the README's main command on the
// shipped sample, in a VM and in a container (runsc), and a workflow whose step reaches a denied domain: it fails that step with the denial
// and a hint in the report; in audit mode it passes, and `policy suggest` on that run's report
// gives a policy under which it passes enforced. The egress runs happen inside the test world's
// host namespace (net-topology.ts), so nothing leaves this machine.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import type { RunReport } from "../../runner/engine/index.js";
import { buildTemplate } from "../../runner/sandbox/vm/index.js";
import { startActionArchiveServer } from "../support/action-archive-server.js";
import { ensureDockerd } from "../support/dockerd.js";
import { requireRoot, TEST_STATE_DIR } from "./helpers.js";
import { buildRunnerWorld, HOST_NS } from "./net-topology.js";

const exec = promisify(execFile);
const BIN = path.join(packageRoot(), "bin", "sandboxed.js");
let teardownWorld: (() => Promise<void>) | undefined;
let dockerSocket = "";

interface Cli {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: readonly string[], netns = false): Promise<Cli> {
  const [file, args] = netns
    ? ["nsenter", [`--net=/run/netns/${HOST_NS}`, "--", process.execPath, BIN, ...argv]]
    : [process.execPath, [BIN, ...argv]];
  try {
    const { stdout, stderr } = await exec(file, args, {
      maxBuffer: 16 * 2 ** 20,
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const COMMON = ["--accel", "tcg", "--state-dir", TEST_STATE_DIR];

/** A repository folder holding one workflow and a policy. */
function repo(workflow: string, policy: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-run-"));
  mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
  writeFileSync(path.join(dir, ".github", "workflows", "ci.yml"), workflow);
  writeFileSync(
    path.join(dir, ".github", "sandbox-policy.yml"),
    `apiVersion: sandboxed/v1\nkind: Policy\nresources: { cpus: 1, memory: 1GiB, disk: 1GiB, timeout: 5m }\n${policy}`,
  );
  return dir;
}

const FETCH = `on: push
jobs:
  fetch:
    runs-on: sandboxed
    steps:
      - name: allowed
        run: curl -fsS -k --connect-timeout 5 -m 20 https://allowed.test/ -o /dev/null -w "allowed %{http_code}\\n"
      - name: denied
        run: curl -fsS --connect-timeout 5 -m 20 http://other.test/ -o /dev/null -w "other %{http_code}\\n"
`;

beforeAll(async () => {
  requireRoot();
  await buildTemplate({ name: "minimal", stateDir: TEST_STATE_DIR, root: packageRoot() });
  // The README example runs on the default template: built here, under the hook's longer limit.
  await buildTemplate({ name: "default", stateDir: TEST_STATE_DIR, root: packageRoot() });
  teardownWorld = await buildRunnerWorld();
  dockerSocket = await ensureDockerd();
}, 900_000);

afterAll(async () => {
  await teardownWorld?.();
});

describe("sandboxed run", () => {
  it.each([
    { backend: "vm", label: "vm \\(tcg\\)", args: () => [] },
    {
      backend: "container",
      label: "container \\(runsc\\)",
      args: () => ["--backend", "container", "--docker-socket", dockerSocket],
    },
  ])(
    "README example: the sample workflow passes in a fresh $backend sandbox, and the report is shown",
    async ({ label, args }) => {
      // `npm start` is this command (with the default state dir).
      const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
        scripts: Record<string, string>;
      };
      expect(pkg.scripts.start).toBe("node bin/sandboxed.js run -C examples/hello");
      const r = await cli([
        "run",
        "-C",
        path.join(packageRoot(), "examples", "hello"),
        ...COMMON,
        ...args(),
      ]);
      expect(r.code, r.stderr).toBe(0);
      // Live logs: step headers, the steps' own output, the composite's group, the JS action's notice.
      expect(r.stderr).toContain("[build] ▸ Who and where");
      expect(r.stderr).toMatch(/Hello from runner on Linux/);
      expect(r.stderr).toContain("the answer is 42");
      expect(r.stderr).toContain("Hello, sandbox!");
      expect(r.stderr).toContain("notice: summary: wrote the job summary (answer 42)");
      expect(r.stderr).toMatch(/\[report\] +build said 42/);
      // The report: both jobs, every step, resources against caps, the summary.
      expect(r.stderr).toMatch(/── hello \(\.github\/workflows\/ci\.yml\) · push ── ✓ success/);
      expect(r.stderr).toMatch(
        /✓ job build: success in [\d.]+s \(boot [\d.]+s · steps [\d.]+s · teardown/,
      );
      expect(r.stderr).toMatch(/resources {2}memory \S+ of 4GiB/);
      expect(r.stderr).toMatch(new RegExp(`processes \\d+ of \\d+ · \\d+ cpu · ${label}`));
      expect(r.stderr).toContain("The answer is **42**");
    },
  );

  it("a step that reaches a denied domain fails with the denial and a hint; audit passes; policy suggest fixes it", async () => {
    const enforced = repo(FETCH, "network:\n  mode: allowlist\n  allow: [allowed.test]\n");
    const report = path.join(enforced, "report.json");
    const r = await cli(
      [
        "run",
        "-C",
        enforced,
        ...COMMON,
        "--template",
        "minimal",
        "--dns-server",
        "8.8.8.8",
        "--report",
        report,
      ],
      true,
    );
    expect(r.code, r.stderr).toBe(1);
    const run = JSON.parse(readFileSync(report, "utf8")) as RunReport;
    const steps = run.jobs[0]!.steps;
    expect(steps.map((s) => [s.name, s.conclusion])).toEqual([
      ["allowed", "success"],
      ["denied", "failure"],
    ]);
    expect(r.stderr).toContain("allowed 200");
    expect(r.stderr).toMatch(/✗ other\.test:80 http denied/);
    expect(r.stderr).toContain(
      "hint: add `other.test` to network.allow in .github/sandbox-policy.yml",
    );

    // The same workflow in audit mode passes, and its report feeds policy suggest.
    const audit = repo(FETCH, "network:\n  mode: audit\n");
    const auditReport = path.join(audit, "report.json");
    const a = await cli(
      [
        "run",
        "-C",
        audit,
        ...COMMON,
        "--template",
        "minimal",
        "--dns-server",
        "8.8.8.8",
        "--report",
        auditReport,
      ],
      true,
    );
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/other\.test:80 http would be denied/);
    const suggested = path.join(enforced, ".github", "sandbox-policy.yml");
    const s = await cli(["policy", "suggest", auditReport, "--extends", "", "-o", suggested]);
    expect(s.code, s.stderr).toBe(0);
    // The suggestion has no resources: keep the test's small VM.
    writeFileSync(
      suggested,
      readFileSync(suggested, "utf8") +
        "resources: { cpus: 1, memory: 1GiB, disk: 1GiB, timeout: 5m }\n",
    );
    const fixed = await cli(
      ["run", "-C", enforced, ...COMMON, "--template", "minimal", "--dns-server", "8.8.8.8"],
      true,
    );
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.stderr).toContain("other 200");
    for (const d of [enforced, audit]) rmSync(d, { recursive: true, force: true });
  });

  it("a job's timeout-minutes shortens the policy's timeout: the VM is stopped with its own reason (L17)", async () => {
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idtimeout-minutes
    const dir = repo(
      "on: push\njobs:\n  slow:\n    runs-on: sandboxed\n    timeout-minutes: 0.25\n    steps:\n      - run: sleep 120\n",
      "network: { mode: none }\n",
    );
    const report = path.join(dir, "report.json");
    const r = await cli(["run", "-C", dir, ...COMMON, "--template", "minimal", "--report", report]);
    expect(r.code, r.stderr).toBe(5);
    const run = JSON.parse(readFileSync(report, "utf8")) as RunReport;
    expect(run.jobs[0]!.sandbox?.breach).toMatchObject({ kind: "timeout", limit: 15 });
    expect(r.stderr).toContain("limit: timeout 15s");
    rmSync(dir, { recursive: true, force: true });
  });

  it("fetches a remote action through the policy's egress decision, caches it by commit, and refuses it when the policy does not allow the API", async () => {
    // https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsuses
    // A fresh commit each run, so the state dir's action cache cannot already hold it.
    const sha = randomBytes(20).toString("hex");
    const server = await startActionArchiveServer({
      "octo/greet": {
        refs: { v1: sha },
        commits: {
          [sha]: {
            files: {
              "action.yml":
                "name: greet\ninputs:\n  who: { required: true }\nruns:\n  using: node20\n  main: index.js\n",
              "index.js":
                "console.log(`hello ${process.env.INPUT_WHO} from ${process.env.GITHUB_ACTION_REPOSITORY}@${process.env.GITHUB_ACTION_REF}`);\n",
            },
          },
        },
      },
    });
    const workflow =
      "on: push\njobs:\n  greet:\n    runs-on: sandboxed\n    steps:\n      - uses: octo/greet@v1\n        with: { who: sandbox }\n";
    // Audit mode lets the host fetch from the stand-in on 127.0.0.1 (an allowlist cannot name
    // loopback: the linter refuses it), and records the decision.
    const audit = repo(workflow, "network: { mode: audit }\n");
    const args = ["run", "-C", audit, ...COMMON, "--template", "minimal"];
    args.push("--github-api-url", server.apiUrl);
    try {
      const first = await cli(args);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toContain("hello sandbox from octo/greet@v1");
      expect(first.stderr).toMatch(/\[actions\] allow 127\.0\.0\.1:\d+/);
      expect(server.count("codeload")).toBe(1);
      // Again: the tag is resolved again (one API call), the archive comes from the cache.
      const second = await cli(args);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain("hello sandbox from octo/greet@v1");
      expect(server.count("codeload")).toBe(1);
      // An allowlist without the API: refused before any VM, with the fix.
      const strict = repo(workflow, "network:\n  mode: allowlist\n  allow: [allowed.test]\n");
      const refused = await cli([
        "run",
        "-C",
        strict,
        ...COMMON,
        "--github-api-url",
        server.apiUrl,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("SBX_ENGINE_ACTION_EGRESS_DENIED");
      expect(refused.stderr).not.toContain("sandbox: boot");
      rmSync(strict, { recursive: true, force: true });
    } finally {
      await server.close();
      rmSync(audit, { recursive: true, force: true });
    }
  });

  it("refuses what the engine cannot run before any VM boots, with file:line:col and why", async () => {
    const dir = repo(
      "on: push\njobs:\n  db:\n    runs-on: sandboxed\n    services:\n      pg: { image: postgres }\n    steps:\n      - run: true\n",
      "network: { mode: none }\n",
    );
    const r = await cli(["run", "-C", dir, ...COMMON]);
    // 2: the input was refused (as for every configuration error); no VM was made.
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\.github\/workflows\/ci\.yml:5:\d+ error .*services/);
    expect(r.stderr).not.toContain("sandbox: boot");
    rmSync(dir, { recursive: true, force: true });
  });
});
