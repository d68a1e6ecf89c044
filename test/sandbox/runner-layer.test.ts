/**
 * The runner layer (issue 6 §4): the pinned release, the cache key, the refusals (message and
 * hint for every code), the guest hooks run as the actions runner runs them, and a real layer
 * built on the minimal template, checked by loop-mounting the result read-only.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import { SandboxedError } from "../../runner/errors/index.js";
import { createEgressProxy } from "../../runner/network/index.js";
import type { VmTemplate } from "../../runner/sandbox/vm/index.js";
import {
  buildTemplate,
  ensureRunnerTemplate,
  listRunnerTemplates,
  RUNNER_HOOK_ENV,
} from "../../runner/sandbox/vm/index.js";
import {
  checkRunnerChecksum,
  checkRunnerLayout,
  growMiB,
  normalizeSha256,
  parseRunnerPin,
  parseTarTotal,
  runnerLayerHash,
} from "../../runner/sandbox/vm/runner-layer-plan.js";
import type { RunnerPin } from "../../runner/sandbox/vm/runner-layer-plan.js";
import { TEST_STATE_DIR } from "../integration/helpers.js";
import { hostRule, network } from "../network/fixtures.js";

const ROOT = packageRoot();
const PIN_FILE = path.join(ROOT, "vm-templates", "actions-runner.yml");
const PIN = parseRunnerPin(readFileSync(PIN_FILE, "utf8"), PIN_FILE);
const A = "a".repeat(64);
const B = "b".repeat(64);

function caught(fn: () => unknown): SandboxedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SandboxedError) return error;
    throw error;
  }
  throw new Error("expected a SandboxedError");
}

async function rejected(promise: Promise<unknown>): Promise<SandboxedError> {
  const error = await promise.then(
    () => new Error("expected a SandboxedError"),
    (e: unknown) => e,
  );
  if (error instanceof SandboxedError) return error;
  throw error;
}

const tmp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));

/** A tiny tarball shaped like the official one: run.sh at the top, a bin/ folder. */
async function makeTarball(layout: "official" | "nested" = "official") {
  const dir = tmp("sbx-runner-src-");
  const top = layout === "nested" ? path.join(dir, "actions-runner") : dir;
  mkdirSync(path.join(top, "bin"), { recursive: true });
  writeFileSync(path.join(top, "run.sh"), "#!/bin/sh\necho stand-in runner\n");
  chmodSync(path.join(top, "run.sh"), 0o755);
  writeFileSync(path.join(top, "bin", "x"), "x\n");
  chmodSync(path.join(top, "bin", "x"), 0o640);
  const file = path.join(tmp("sbx-runner-tgz-"), "runner.tar.gz");
  await execa("tar", ["-czf", file, "--owner=4242", "--group=4242", "-C", dir, "."]);
  const bytes = readFileSync(file);
  return { file, bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}

/** A template that was never built: enough for every refusal before the copy. */
const fakeBase = (dir: string): VmTemplate => ({
  name: "fake",
  hash: "0123456789abcdef",
  dir,
  kernel: path.join(dir, "vmlinux"),
  initrd: path.join(dir, "initramfs.cpio"),
  rootImage: path.join(dir, "root.ext4"),
  user: { name: "runner", uid: 1001, gid: 1001 },
});

describe("the pinned release", () => {
  it("vm-templates/actions-runner.yml pins a recent official linux-x64 runner", () => {
    expect(PIN.version).toMatch(/^2\.(3[3-9][0-9]|[4-9][0-9]{2})\.[0-9]+$/);
    expect(PIN.url).toBe(
      `https://github.com/actions/runner/releases/download/v${PIN.version}/actions-runner-linux-x64-${PIN.version}.tar.gz`,
    );
    expect(PIN.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    {
      name: "bad sum",
      text: `version: "2.335.1"\nurl: https://x/{version}\nsha256: abc\n`,
      key: "sha256",
    },
    {
      name: "plain http",
      text: `version: "2.335.1"\nurl: http://x/{version}\nsha256: ${A}\n`,
      key: "url",
    },
    {
      name: "unknown key",
      text: `version: "2.335.1"\nurl: https://x\nsha256: ${A}\nsha: 1\n`,
      key: "(top)",
    },
    {
      name: "bad version",
      text: `version: latest\nurl: https://x\nsha256: ${A}\n`,
      key: "version",
    },
  ])("refuses a pin with a $name (SBX_TEMPLATE_INVALID)", ({ text, key }) => {
    const e = caught(() => parseRunnerPin(text, "pin.yml"));
    expect(e.code).toBe("SBX_TEMPLATE_INVALID");
    expect(e.message).toContain(`pin.yml: ${key}`);
    expect(e.hint).toContain("sha256: <64 hex>");
  });
});

describe("the cache key", () => {
  const key = {
    baseHash: "0123456789abcdef",
    runnerSha256: A,
    hooks: [
      { name: "job-started.sh", content: "echo started" },
      { name: "job-completed.sh", content: "echo completed" },
    ],
    recipe: "steps",
  };
  it.each([
    { name: "another base build", change: { baseHash: "fedcba9876543210" } },
    { name: "another runner tarball", change: { runnerSha256: B } },
    {
      name: "a changed hook",
      change: { hooks: [key.hooks[0]!, { name: "job-completed.sh", content: "echo changed" }] },
    },
    {
      name: "a renamed hook",
      change: { hooks: [key.hooks[0]!, { name: "job-done.sh", content: "echo completed" }] },
    },
    { name: "changed build steps", change: { recipe: "other steps" } },
  ])("changes with $name", ({ change }) => {
    expect(runnerLayerHash({ ...key, ...change })).not.toBe(runnerLayerHash(key));
  });
  it("is stable for the same inputs", () => {
    expect(runnerLayerHash({ ...key })).toBe(runnerLayerHash(key));
    expect(runnerLayerHash(key)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("refusals", () => {
  const pin: RunnerPin = { version: "2.335.1", url: "https://example.test/r.tgz", sha256: A };
  const local = { kind: "tarball", file: "/tmp/r.tgz" } as const;

  it.each([
    { name: "the pinned tarball", actual: A, explicit: undefined },
    { name: "a stand-in accepted with --runner-sha256", actual: B, explicit: B },
  ])("uses $name", ({ actual, explicit }) => {
    expect(() => checkRunnerChecksum(local, actual, pin, explicit)).not.toThrow();
  });

  it("refuses a local tarball that differs from the pin: both sums, and how to accept it", () => {
    const e = caught(() => checkRunnerChecksum(local, B, pin, undefined));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toBe(
      `runner tarball /tmp/r.tgz has sha256 ${B}, but vm-templates/actions-runner.yml pins ${A} (actions runner 2.335.1)`,
    );
    expect(e.hint).toBe(
      `pass --runner-sha256 ${B} to accept this tarball deliberately (a self-built or patched runner)`,
    );
  });

  it("refuses a local tarball that differs from the sum given with --runner-sha256", () => {
    const e = caught(() => checkRunnerChecksum(local, A, pin, B));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toBe(
      `runner tarball /tmp/r.tgz has sha256 ${A}, not ${B} as --runner-sha256 says`,
    );
    expect(e.hint).toBe(
      "check the file (sha256sum /tmp/r.tgz); pass the sum it has only if you trust it",
    );
  });

  it("refuses a download that differs from the pin", () => {
    const source = { kind: "download", url: pin.url, file: "/c/r.tgz" } as const;
    const e = caught(() => checkRunnerChecksum(source, B, pin, undefined));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toBe(
      `the download of https://example.test/r.tgz has sha256 ${B}, but vm-templates/actions-runner.yml pins ${A}; it was deleted, not used`,
    );
    expect(e.hint).toContain("pass --runner-tarball FILE");
  });

  it.each([
    { name: "upper case", text: A.toUpperCase(), ok: true },
    { name: "surrounding space", text: ` ${A}\n`, ok: true },
    { name: "too short", text: "abc", ok: false },
    { name: "not hex", text: "g".repeat(64), ok: false },
  ])("--runner-sha256 with $name", ({ text, ok }) => {
    if (ok) {
      expect(normalizeSha256(text)).toBe(A);
      return;
    }
    const e = caught(() => normalizeSha256(text));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toBe(`--runner-sha256 ${JSON.stringify(text)} is not a sha256 sum`);
    expect(e.hint).toBe("give the 64 hex digits that `sha256sum FILE` prints");
  });

  it.each([
    { name: "./run.sh (the official tarball)", entries: ["./", "./run.sh", "./bin/"] },
    { name: "run.sh without ./", entries: ["run.sh", "config.sh"] },
  ])("accepts $name", ({ entries }) => {
    expect(() => checkRunnerLayout("r.tgz", entries)).not.toThrow();
  });

  it.each([
    {
      name: "run.sh inside a folder",
      entries: ["actions-runner/", "actions-runner/run.sh"],
      message:
        'runner tarball r.tgz has no run.sh at its top (first members: "actions-runner/", "actions-runner/run.sh")',
    },
    {
      name: "no members",
      entries: [],
      message: "runner tarball r.tgz has no run.sh at its top (first members: none)",
    },
  ])("refuses $name (SBX_TEMPLATE_RUNNER_LAYOUT)", ({ entries, message }) => {
    const e = caught(() => checkRunnerLayout("r.tgz", entries));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_LAYOUT");
    expect(e.message).toBe(message);
    expect(e.hint).toBe(
      "use actions-runner-linux-x64-<version>.tar.gz from github.com/actions/runner/releases, or repack with run.sh at the top: tar -czf runner.tar.gz -C DIR .",
    );
  });

  it.each([
    { name: "a parent path", entry: "./../etc/passwd" },
    { name: "an absolute path", entry: "/etc/passwd" },
    { name: "a parent inside", entry: "bin/../../x" },
  ])("refuses a member with $name", ({ entry }) => {
    const e = caught(() => checkRunnerLayout("r.tgz", ["./run.sh", entry]));
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_LAYOUT");
    expect(e.message).toBe(
      `runner tarball r.tgz has a member that leaves its folder: ${JSON.stringify(entry)}`,
    );
    expect(e.hint).toBe("repack it with relative paths: tar -czf runner.tar.gz -C DIR .");
  });

  it("sizes the growth from tar --totals", () => {
    expect(parseTarTotal("Total bytes read: 10240 (10KiB, 61MiB/s)\n")).toBe(10240);
    expect(parseTarTotal("")).toBeUndefined();
    expect(growMiB(10240)).toBe(65);
    expect(growMiB(700 * 2 ** 20)).toBe(840 + 64);
  });
});

describe("refusals before anything is built", () => {
  it("a local tarball off the pin, through ensureRunnerTemplate", async () => {
    const t = await makeTarball();
    const state = tmp("sbx-layer-state-");
    const e = await rejected(
      ensureRunnerTemplate({ stateDir: state, base: fakeBase(state), tarball: t.file }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toContain(
      `has sha256 ${t.sha256}, but vm-templates/actions-runner.yml pins ${PIN.sha256}`,
    );
    expect(e.hint).toBe(
      `pass --runner-sha256 ${t.sha256} to accept this tarball deliberately (a self-built or patched runner)`,
    );
    expect(readdirSync(state)).toEqual([]);
  });

  it("a missing tarball", async () => {
    const state = tmp("sbx-layer-state-");
    const e = await rejected(
      ensureRunnerTemplate({ stateDir: state, base: fakeBase(state), tarball: "/nope.tgz" }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_LAYOUT");
    expect(e.message).toBe("no runner tarball at /nope.tgz");
    expect(e.hint).toBe("pass the path of actions-runner-linux-x64-<version>.tar.gz");
  });

  it("a download that fails (SBX_TEMPLATE_RUNNER_DOWNLOAD), leaving nothing in the cache", async () => {
    const state = tmp("sbx-layer-state-");
    const e = await rejected(
      ensureRunnerTemplate({
        stateDir: state,
        base: fakeBase(state),
        download: async () => {
          throw new Error("getaddrinfo ENOTFOUND github.com");
        },
      }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_DOWNLOAD");
    expect(e.message).toBe(`downloading ${PIN.url} failed: getaddrinfo ENOTFOUND github.com`);
    expect(e.hint).toBe("download it where GitHub is reachable and pass --runner-tarball FILE");
    expect(readdirSync(path.join(state, "cache"))).toEqual([]);
  });

  it("a download whose sum is not the pin's is deleted, not used", async () => {
    const t = await makeTarball();
    const state = tmp("sbx-layer-state-");
    const e = await rejected(
      ensureRunnerTemplate({
        stateDir: state,
        base: fakeBase(state),
        download: async () => Readable.from([t.bytes]),
      }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_CHECKSUM");
    expect(e.message).toBe(
      `the download of ${PIN.url} has sha256 ${t.sha256}, but vm-templates/actions-runner.yml pins ${PIN.sha256}; it was deleted, not used`,
    );
    expect(readdirSync(path.join(state, "cache"))).toEqual([]);
  });

  it("a tarball with run.sh inside a folder, accepted by sum but not by layout", async () => {
    const t = await makeTarball("nested");
    const state = tmp("sbx-layer-state-");
    const e = await rejected(
      ensureRunnerTemplate({
        stateDir: state,
        base: fakeBase(state),
        tarball: t.file,
        sha256: t.sha256,
      }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_LAYOUT");
    expect(e.message).toContain("has no run.sh at its top");
  });
});

describe("guest hooks, run as the actions runner runs them (bash -e)", () => {
  const hook = (name: string, env: Record<string, string>) =>
    execa("bash", ["-e", path.join(ROOT, "hooks", name)], {
      extendEnv: false,
      env: { PATH: process.env.PATH, ...env },
      reject: false,
    });

  /** The block is grouped, and workflow commands are off inside it (a token that matches). */
  function expectFenced(stdout: string): string[] {
    const lines = stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^::group::sandboxed: /);
    const token = /^::stop-commands::([0-9a-f]{32})$/.exec(lines[1]!)?.[1];
    expect(token).toBeDefined();
    expect(lines.at(-2)).toBe(`::${token}::`);
    expect(lines.at(-1)).toBe("::endgroup::");
    return lines.slice(2, -2);
  }

  it("the environment names the installed hooks", () => {
    expect(RUNNER_HOOK_ENV).toEqual({
      ACTIONS_RUNNER_HOOK_JOB_STARTED: "/opt/sandboxed/hooks/job-started.sh",
      ACTIONS_RUNNER_HOOK_JOB_COMPLETED: "/opt/sandboxed/hooks/job-completed.sh",
    });
  });

  it("job-started prints the policy summary from SANDBOXED_POLICY_SUMMARY", async () => {
    const r = await hook("job-started.sh", {
      SANDBOXED_POLICY_SUMMARY: "network: allowlist\n  github.com:443\n::set-env name=X::y",
    });
    expect(r.exitCode).toBe(0);
    expect(expectFenced(r.stdout)).toEqual([
      "sandboxed: this job runs in a throwaway sandbox under policy; the sandbox and everything",
      "the job leaves in it are destroyed when the job ends.",
      "network: allowlist",
      "  github.com:443",
      "::set-env name=X::y",
    ]);
  });

  it("job-completed asks the sandbox's proxy for its egress summary", async () => {
    const proxy = await createEgressProxy({
      listen: { host: "127.0.0.1", port: 0 },
      network: network("allowlist", [hostRule("allowed.test", [443])]),
      jobId: "sbx-hook",
      resolver: async () => [],
      onDecision: () => undefined,
    });
    try {
      const proxyUrl = `http://127.0.0.1:${proxy.port}`;
      await execa("curl", ["-s", "-x", proxyUrl, "http://evil.test/"], { reject: false });
      const r = await hook("job-completed.sh", { http_proxy: proxyUrl });
      expect(r.exitCode).toBe(0);
      expect(expectFenced(r.stdout).slice(0, 4)).toEqual([
        "sandboxed: egress of sandbox sbx-hook (this sandbox's decisions only)",
        "allowed: 0 decisions",
        "denied: 1 decision",
        "      1x denied http evil.test:80 (no-matching-rule)",
      ]);
    } finally {
      await proxy.close();
    }
  });

  it.each([
    {
      name: "no network",
      env: {} as Record<string, string>,
      line: "egress: none (this sandbox has no network)",
    },
    {
      name: "a proxy that does not answer",
      env: { http_proxy: "http://127.0.0.1:9" },
      line: "egress: the proxy did not answer; the decisions are in the job's log on the host",
    },
  ])("job-completed never fails the job: $name", async ({ env, line }) => {
    const r = await hook("job-completed.sh", env);
    expect(r.exitCode).toBe(0);
    expect(expectFenced(r.stdout)[0]).toBe(line);
  });
});

describe("a real layer on the minimal template", () => {
  let base: VmTemplate;
  let state: string;
  let mnt: string | undefined;

  beforeAll(async () => {
    if (process.getuid?.() !== 0)
      throw new Error("building a runner layer needs root (loop mounts)");
    // A clean checkout has no build/: the template build bundles the agent from there.
    if (!existsSync(path.join(ROOT, "build", "runner", "guest", "agent.js"))) {
      await execa("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: ROOT });
    }
    ({ template: base } = await buildTemplate({
      name: "minimal",
      stateDir: TEST_STATE_DIR,
      root: ROOT,
    }));
    state = tmp("sbx-layer-state-");
  }, 900_000);

  afterAll(async () => {
    if (mnt) await execa("umount", [mnt], { reject: false });
    if (state) rmSync(state, { recursive: true, force: true });
  });

  it("unpacks the runner as the job user and the hooks as root; a second call is a cache hit", async () => {
    const t = await makeTarball();
    const phases: string[] = [];
    const first = await ensureRunnerTemplate({
      stateDir: state,
      base,
      tarball: t.file,
      sha256: t.sha256.toUpperCase(),
      onProgress: (l) => phases.push(l),
    });
    expect(first).toMatchObject({
      name: "minimal+runner",
      base: { name: "minimal", hash: base.hash },
      runner: { version: "unpinned", sha256: t.sha256, dir: "/home/runner/actions-runner" },
      user: base.user,
      cached: false,
    });
    expect(first.dir).toBe(path.join(state, "templates", "minimal+runner", first.hash));
    expect(phases.filter((l) => l.startsWith("==> ")).map((l) => l.split(" ")[1])).toEqual([
      "check",
      "copy",
      "grow",
      "mount",
      "actions",
      "hooks",
      "unmount",
      "done:",
      "minimal+runner",
    ]);
    // The kernel and initrd are the base's; the base image itself is untouched.
    expect(statSync(first.kernel).size).toBe(statSync(base.kernel).size);
    expect(statSync(first.initrd).size).toBe(statSync(base.initrd).size);
    expect(statSync(first.rootImage).size).toBeGreaterThanOrEqual(
      statSync(base.rootImage).size + 64 * 2 ** 20,
    );
    expect(JSON.parse(readFileSync(path.join(first.dir, "manifest.json"), "utf8"))).toMatchObject({
      name: "minimal+runner",
      hash: first.hash,
      base: { name: "minimal", hash: base.hash },
      runner: { version: "unpinned", sha256: t.sha256 },
    });

    mnt = tmp("sbx-layer-check-");
    await execa("mount", ["-o", "loop,ro,noexec,nosuid,nodev", first.rootImage, mnt]);
    const at = (p: string) => path.join(mnt!, p);
    const owner = (p: string) => {
      const s = statSync(at(p));
      return { uid: s.uid, gid: s.gid, mode: (s.mode & 0o7777).toString(8) };
    };
    const job = { uid: 1001, gid: 1001 };
    expect(readFileSync(at("home/runner/actions-runner/run.sh"), "utf8")).toBe(
      "#!/bin/sh\necho stand-in runner\n",
    );
    expect(owner("home/runner/actions-runner")).toMatchObject(job);
    expect(owner("home/runner/actions-runner/run.sh")).toEqual({ ...job, mode: "755" });
    expect(owner("home/runner/actions-runner/bin")).toMatchObject(job);
    expect(owner("home/runner/actions-runner/bin/x")).toEqual({ ...job, mode: "640" });
    expect(
      JSON.parse(readFileSync(at("home/runner/actions-runner/.sandboxed-runner.json"), "utf8")),
    ).toEqual({ version: "unpinned", sha256: t.sha256 });
    expect(owner("home/runner/actions-runner/.sandboxed-runner.json")).toEqual({
      ...job,
      mode: "644",
    });
    expect(owner("opt/sandboxed/hooks")).toEqual({ uid: 0, gid: 0, mode: "755" });
    for (const name of ["job-started.sh", "job-completed.sh"]) {
      expect(owner(`opt/sandboxed/hooks/${name}`)).toEqual({ uid: 0, gid: 0, mode: "755" });
      expect(readFileSync(at(`opt/sandboxed/hooks/${name}`))).toEqual(
        readFileSync(path.join(ROOT, "hooks", name)),
      );
    }
    // What the base had is still there: the agent.
    expect(existsSync(at("opt/sandboxed/agent.mjs"))).toBe(true);
    await execa("umount", [mnt]);
    mnt = undefined;

    // Same base, same sum (this time for a download that is never needed), same hooks: a hit.
    const second = await ensureRunnerTemplate({
      stateDir: state,
      base,
      sha256: t.sha256,
      download: async () => {
        throw new Error("a cache hit downloads nothing");
      },
    });
    expect(second).toMatchObject({ dir: first.dir, hash: first.hash, cached: true });
    expect(listRunnerTemplates(state, "minimal").map((l) => l.hash)).toEqual([first.hash]);
  });

  it("downloads into the cache once, checked, then builds from it", async () => {
    const t = await makeTarball();
    const own = tmp("sbx-layer-dl-");
    const urls: string[] = [];
    const layer = await ensureRunnerTemplate({
      stateDir: own,
      base,
      sha256: t.sha256,
      download: async (url) => {
        urls.push(url);
        return Readable.from([t.bytes.subarray(0, 100), t.bytes.subarray(100)]);
      },
    });
    expect(urls).toEqual([PIN.url]);
    expect(layer).toMatchObject({ cached: false, runner: { sha256: t.sha256 } });
    const cached = path.join(own, "cache", `actions-runner-linux-x64-${PIN.version}.tar.gz`);
    expect(readFileSync(cached)).toEqual(t.bytes);
    expect(readdirSync(path.join(own, "cache"))).toEqual([path.basename(cached)]);
    rmSync(own, { recursive: true, force: true });
  });

  it("a build that fails leaves no partial folder (SBX_TEMPLATE_RUNNER_BUILD)", async () => {
    const t = await makeTarball();
    const broken = tmp("sbx-layer-broken-");
    writeFileSync(path.join(broken, "root.ext4"), Buffer.alloc(2 ** 20));
    writeFileSync(path.join(broken, "vmlinux"), "k");
    writeFileSync(path.join(broken, "initramfs.cpio"), "i");
    const e = await rejected(
      ensureRunnerTemplate({
        stateDir: state,
        base: { ...fakeBase(broken), name: "broken" },
        tarball: t.file,
        sha256: t.sha256,
      }),
    );
    expect(e.code).toBe("SBX_TEMPLATE_RUNNER_BUILD");
    expect(e.message).toMatch(/^adding the actions runner to broken failed \(exit 1\):\n/);
    expect(e.message).toContain("e2fsck");
    expect(e.hint).toBe(
      "it needs root, loop devices (modprobe loop), e2fsprogs and util-linux; see the lines above",
    );
    expect(readdirSync(path.join(state, "templates", "broken+runner"))).toEqual([]);
    rmSync(broken, { recursive: true, force: true });
  });
});
