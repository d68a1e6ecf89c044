// The VM backend against real QEMU guests (TCG here, KVM where it works): the shared contract,
// plus what only a VM has: the jailed, seccomp-filtered, unprivileged QEMU, and crash recovery.
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import { buildTemplate, createVmSandbox, vmmOverheadBytes } from "../../runner/sandbox/vm/index.js";
import type { Accel, VmTemplate } from "../../runner/sandbox/vm/index.js";
import { cgroupLayout } from "../../runner/sandbox/index.js";
import { hostCgroupCaps, policy, qemuPids, requireRoot, TEST_STATE_DIR } from "./helpers.js";
import type { HostCgroupCaps } from "./helpers.js";
import { defineSandboxContract, runJob } from "./sandbox-contract.js";
import type { SandboxFactory } from "./sandbox-contract.js";

const exec = promisify(execFile);
const ACCEL: Accel = (process.env.SANDBOXED_TEST_ACCEL as Accel | undefined) ?? "tcg";
let template: VmTemplate;
let counter = 0;

const factory = (): SandboxFactory => (p, onEvent) =>
  createVmSandbox({
    id: `sbx-test-${process.pid}-${++counter}`,
    policy: p,
    stateDir: TEST_STATE_DIR,
    template,
    accel: ACCEL,
    onEvent,
  });

beforeAll(async () => {
  requireRoot();
  ({ template } = await buildTemplate({
    name: "minimal",
    stateDir: TEST_STATE_DIR,
    root: packageRoot(),
  }));
}, 900_000);

defineSandboxContract(`vm (${ACCEL})`, factory, async (box) =>
  cgroupLayout("/sys/fs/cgroup", box.id),
);

describe("vm: host side", () => {
  it("runs QEMU as a non-root uid, with seccomp, no_new_privs, no capabilities, in its own mount namespace", async () => {
    let status = "";
    let mountNs = "";
    let cmdline = "";
    const box = factory()(policy({ memory: "512MiB", disk: "256MiB", timeout: "2m" }), (e) => {
      if (e.type === "step-start") {
        const pid = qemuPids().find((p) =>
          readFileSync(`/proc/${p}/cmdline`, "utf8").includes(TEST_STATE_DIR),
        );
        if (pid) {
          status = readFileSync(`/proc/${pid}/status`, "utf8");
          mountNs = readFileSync(`/proc/${pid}/mountinfo`, "utf8");
          cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
        }
      }
    });
    try {
      const report = await box.run({ steps: [{ name: "wait", argv: ["sleep", "1"] }] });
      expect(report.outcome).toBe("success");
    } finally {
      await box.destroy();
    }
    expect(status).not.toBe("");
    const uid = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!;
    expect(Number(uid[1])).toBeGreaterThanOrEqual(1_900_000_000);
    expect(uid[2]).toBe(uid[1]);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^CapBnd:\s+0+$/m);
    // Its view of the state folder holds only its own sandbox and template.
    expect(mountNs).toMatch(new RegExp(`${TEST_STATE_DIR} .*tmpfs sandboxed-state`));
    expect(mountNs).toMatch(/ \/home .*tmpfs sandboxed-hide/);
    expect(cmdline).not.toMatch(/virtfs|9p|fsdev|vhost-user-fs/);
  });

  it("the guest has the policy's CPUs, and the host's cgroup holds QEMU to them and to RAM + overhead (L5)", async () => {
    const id = `sbx-test-${process.pid}-${++counter}`;
    let seen: HostCgroupCaps | undefined;
    let qemu: number[] = [];
    let stdout = "";
    const box = createVmSandbox({
      id,
      policy: policy({ cpus: 1, memory: "512MiB", disk: "256MiB", timeout: "2m" }),
      stateDir: TEST_STATE_DIR,
      template,
      accel: ACCEL,
      onEvent: (e) => {
        if (e.type === "step-start" && !seen) {
          seen = hostCgroupCaps(cgroupLayout("/sys/fs/cgroup", id));
          qemu = qemuPids().filter((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes(id));
        }
        if (e.type === "output" && e.stream === "stdout") stdout += e.text;
      },
    });
    try {
      const report = await box.run({
        steps: [{ name: "cpus", argv: ["sh", "-c", "nproc; grep -c ^processor /proc/cpuinfo"] }],
      });
      expect(report.outcome).toBe("success");
      expect(report.limits.cpus).toBe(1);
    } finally {
      await box.destroy();
    }
    expect(stdout).toBe("1\n1\n");
    expect(seen).toMatchObject({
      memoryBytes: String(512 * 2 ** 20 + vmmOverheadBytes(ACCEL)),
      cpuQuotaUs: seen?.cpuPeriodUs,
    });
    expect(Number(seen?.cpuPeriodUs)).toBeGreaterThan(0);
    // QEMU itself is in it, not only a cgroup that was made and left empty.
    expect(qemu).toHaveLength(1);
    expect(seen?.procs).toContain(qemu[0]);
  });

  it("a guest that never says ready is booted once more on fresh disks, then reported as infrastructure, with nothing left (L19)", async () => {
    const phases: string[] = [];
    const id = `sbx-test-${process.pid}-${++counter}`;
    const box = createVmSandbox({
      id,
      policy: policy({ memory: "512MiB", disk: "256MiB", timeout: "2m" }),
      stateDir: TEST_STATE_DIR,
      template,
      accel: ACCEL,
      // No guest boots in 0.3 s: both attempts stall.
      bootTimeoutMs: 300,
      onEvent: (e) => {
        if (e.type === "phase") phases.push(`${e.phase}${e.detail ? ` ${e.detail}` : ""}`);
      },
    });
    let report;
    try {
      report = await box.run({ steps: [{ name: "never", argv: ["true"] }] });
    } finally {
      await box.destroy();
    }
    expect(report.outcome).toBe("infrastructure");
    expect(report.exitStatus).toBe(70);
    expect(report.error).toMatch(/^the guest did not boot within 0.3s, twice/);
    expect(report.breach).toBeUndefined();
    expect(phases.filter((p) => p === "boot" || p === "boot retry")).toEqual([
      "boot",
      "boot retry",
    ]);
    expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
    expect(
      qemuPids().filter((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes(id)),
    ).toEqual([]);
  });

  it("files that do not fit the workspace disk stop the job before boot, with nothing left (L25)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-big-"));
    // Random bytes: a sparse or zero file would fit.
    await exec("sh", ["-c", `head -c ${300 * 2 ** 20} /dev/urandom > ${dir}/big.bin`]);
    const id = `sbx-test-${process.pid}-${++counter}`;
    const phases: string[] = [];
    const box = createVmSandbox({
      id,
      policy: policy({ memory: "512MiB", disk: "256MiB" }),
      stateDir: TEST_STATE_DIR,
      template,
      accel: ACCEL,
      onEvent: (e) => {
        if (e.type === "phase") phases.push(e.phase);
      },
    });
    try {
      await expect(
        box.run({ steps: [], directories: [{ source: dir, path: "repo" }] }),
      ).rejects.toMatchObject({
        code: "SBX_SANDBOX_WORKSPACE_TOO_BIG",
        message: expect.stringMatching(
          /^the job's files \(300MiB\) do not fit in the workspace disk of 256MiB/,
        ),
        hint: "raise resources.disk in the policy, or leave large ignored files out",
      });
    } finally {
      await box.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(phases).not.toContain("boot");
    expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
  });

  it("the guest sees no host folder: no 9p or virtiofs mounts, only its own disks", async () => {
    const r = await runJob(factory(), policy({ memory: "512MiB", disk: "256MiB" }), {
      steps: [
        {
          name: "look",
          argv: [
            "sh",
            "-c",
            "cat /proc/mounts | cut -d' ' -f3 | sort -u | tr '\\n' ' '; ls /sys/block | tr '\\n' ' '",
          ],
        },
        // Issue 6: the runner stand-in (and many job scripts) use bash's `<(…)`, which needs
        // /dev/fd; the guest has no udev to make it.
        { name: "dev-fd", argv: ["bash", "-c", "cat <(echo procsub-ok) /dev/stdin < /dev/null"] },
      ],
    });
    expect(r.stdout).not.toMatch(/9p|virtiofs|nfs|fuse/);
    expect(r.stdout).toMatch(/vda vdb vdc/);
    expect(r.stdout).toContain("procsub-ok");
  });

  it("after kill -9 of the runner mid-job, gc leaves no QEMU, disk, cgroup or record", async () => {
    const bin = path.join(packageRoot(), "bin", "sandboxed.js");
    const env = { ...process.env, SANDBOXED_STATE_DIR: TEST_STATE_DIR };
    const runner = spawn(
      process.execPath,
      [bin, "sandbox", "exec", "--accel", ACCEL, "--template", "minimal", "--", "sleep", "600"],
      {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let seen = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`runner never reached the step: ${seen}`)),
        120_000,
      );
      runner.stderr.on("data", (c: Buffer) => {
        seen += c.toString();
        if (seen.includes("[sandbox] ready")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const sandboxes = readdirSync(path.join(TEST_STATE_DIR, "sandboxes"));
    const mine = sandboxes.filter((id) =>
      readFileSync(path.join(TEST_STATE_DIR, "sandboxes", id, "owner.json"), "utf8").includes(
        `"pid":${runner.pid}`,
      ),
    );
    expect(mine).toHaveLength(1);
    const id = mine[0]!;
    runner.kill("SIGKILL");
    await new Promise((r) => runner.on("exit", r));
    const qemuBefore = qemuPids().filter((p) =>
      readFileSync(`/proc/${p}/cmdline`, "utf8").includes(id),
    );
    expect(qemuBefore).toHaveLength(1); // the orphan gc must find

    const { stdout } = await exec(process.execPath, [bin, "gc"], { env });
    expect(stdout).toContain(`removed ${id}`);
    expect(
      qemuPids().filter(
        (p) =>
          existsSync(`/proc/${p}/cmdline`) &&
          readFileSync(`/proc/${p}/cmdline`, "utf8").includes(id),
      ),
    ).toEqual([]);
    expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
    for (const dir of cgroupLayout("/sys/fs/cgroup", id).dirs) expect(existsSync(dir)).toBe(false);
    expect(readdirSync(path.join(TEST_STATE_DIR, "uids"))).toEqual([]);
  });
});
