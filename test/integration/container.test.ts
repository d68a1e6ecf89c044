// The container backend against a real Docker daemon with gVisor (runsc) here, sysbox-runc where
// installed: the shared contract, plus what only a container has: the barriers a container
// escape would cross (no Docker socket, no mount, no user namespace, no /proc/sys, no device
// nodes, no cgroup release_agent), the caps as the host's cgroups see them, runc's refusal, and
// crash recovery. The daemon is started by scripts/dockerd.sh (test/support/dockerd.ts).
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import { beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import {
  createContainerSandbox,
  ensureImage,
  hostPidsLimit,
  SANDBOX_LABEL,
  STATX_COMPAT_PATH,
} from "../../runner/sandbox/container/index.js";
import { cgroupLayout, EXIT_STATUS } from "../../runner/sandbox/index.js";
import { buildTemplate } from "../../runner/sandbox/vm/index.js";
import type { VmTemplate } from "../../runner/sandbox/vm/index.js";
import { ensureDockerd } from "../support/dockerd.js";
import { hostCgroupCaps, policy, requireRoot, TEST_STATE_DIR } from "./helpers.js";
import type { HostCgroupCaps } from "./helpers.js";
import { defineSandboxContract, runJob } from "./sandbox-contract.js";
import type { SandboxFactory } from "./sandbox-contract.js";

const exec = promisify(execFile);
let template: VmTemplate;
/** A static binary that calls clone3(CLONE_NEWUSER) directly: unshare(1) cannot test clone3. */
let clone3Probe: Uint8Array | undefined;
let socket: string;
let counter = 0;

const factory = (): SandboxFactory => (p, onEvent) =>
  createContainerSandbox({
    id: `sbx-ctest-${process.pid}-${++counter}`,
    policy: p,
    stateDir: TEST_STATE_DIR,
    image: template,
    dockerSocket: socket,
    onEvent,
  });

beforeAll(async () => {
  requireRoot();
  socket = await ensureDockerd();
  ({ template } = await buildTemplate({
    name: "minimal",
    stateDir: TEST_STATE_DIR,
    root: packageRoot(),
  }));
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-clone3-"));
  const source = path.join(dir, "clone3.c");
  await import("node:fs").then((fs) => fs.writeFileSync(source, CLONE3_C));
  const built = await exec("gcc", ["-static", "-O2", "-o", path.join(dir, "clone3"), source]).then(
    () => true,
    () => false,
  );
  if (built) clone3Probe = readFileSync(path.join(dir, "clone3"));
}, 900_000);

const CLONE3_C = String.raw`
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  struct clone_args a;
  memset(&a, 0, sizeof a);
  a.flags = CLONE_NEWUSER;
  a.exit_signal = SIGCHLD;
  long r = syscall(SYS_clone3, &a, sizeof a);
  if (r == 0) _exit(0);
  if (r < 0) return 1;
  waitpid(r, 0, 0);
  return 0;
}
`;

const docker = (): Docker => new Docker({ socketPath: socket });

/** Containers of ours the daemon still has (by label), for leftover checks. */
async function ourContainers(id?: string): Promise<string[]> {
  const list = await docker().listContainers({
    all: true,
    filters: { label: [id ? `${SANDBOX_LABEL}=${id}` : SANDBOX_LABEL] },
  });
  return list.map((c) => c.Names[0] ?? c.Id);
}

/** After destroy: no container of the sandbox's, no mount naming it, no record folder. */
async function expectNothingLeft(id: string): Promise<void> {
  expect(await ourContainers(id)).toEqual([]);
  expect(readFileSync("/proc/mounts", "utf8")).not.toContain(id);
  expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
}

defineSandboxContract("container (runsc)", factory, async (box) =>
  cgroupLayout("/sys/fs/cgroup", (await docker().getContainer(box.id).inspect()).Id),
);

/** Each line prints "<name>: REACHED" or "<name>: blocked"; run as the job user, with sudo. */
const ESCAPES = String.raw`
t() { n=$1; shift; if timeout 10 "$@" >/dev/null 2>&1; then echo "$n: REACHED"; else echo "$n: blocked"; fi; }
t sudo-is-root         sh -c 'test "$(sudo -n id -u)" = 0'
t docker-socket        sh -c 'for s in /var/run/docker.sock /run/docker.sock /run/sandboxed/docker.sock /run/containerd/containerd.sock; do test -e $s && exit 0; done; grep -q "docker.sock\|containerd" /proc/mounts'
t mount-tmpfs          sudo mount -t tmpfs none /mnt
t mount-proc           sudo mount -t proc proc /mnt
t unshare-user         unshare -U true
t unshare-user-root    sudo unshare -U true
t unshare-mount        sudo unshare -m true
t unshare-net          sudo unshare -n true
t clone3-newuser       ./clone3
t proc-sys-write       sudo sh -c 'echo 1 > /proc/sys/kernel/sysrq'
t proc-sysrq-trigger   sudo sh -c 'echo h > /proc/sysrq-trigger'
t dev-block-node       sudo sh -c 'mknod /sandbox/work/sda b 8 0 && head -c 512 /sandbox/work/sda | grep -q .'
t dev-mem-node         sudo sh -c 'mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem'
t dev-kmsg             sudo sh -c 'head -c 1 /dev/kmsg'
t release-agent-mount  sudo sh -c 'mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg'
t release-agent-write  sudo sh -c 'for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent; do echo /x > $f && exit 0; done; exit 1'
t host-processes       sh -c 'test $(ls /proc | grep -c "^[0-9]") -gt 50'
t raw-socket           sudo busybox ping -c 1 -W 2 127.0.0.1
`;
const ESCAPE_NAMES = [...ESCAPES.matchAll(/^t (\S+)/gm)].map((m) => m[1]!);

describe("container: barriers a container escape would cross", () => {
  it("no Docker socket, no mount, no user or other namespace, no /proc/sys, no device nodes, no release_agent", async () => {
    const r = await runJob(
      factory(),
      policy({ memory: "512MiB", disk: "256MiB" }, "isolation: { sudo: true }\n"),
      {
        steps: [{ name: "escapes", argv: ["bash", "-c", ESCAPES] }],
        files: clone3Probe ? [{ path: "clone3", content: clone3Probe, mode: 0o755 }] : [],
      },
    );
    expect(r.report.outcome, r.stderr).toBe("success");
    const lines = r.stdout.trim().split("\n");
    expect(lines.map((l) => l.split(":")[0])).toEqual(ESCAPE_NAMES);
    // The first row is the control: sudo does work, so every "blocked" below is the barrier.
    expect(lines.filter((l) => l.endsWith("REACHED"))).toEqual(["sudo-is-root: REACHED"]);
    if (!clone3Probe) console.warn("gcc -static unavailable: clone3 row ran without its probe");
  });

  it("sudo works where the policy grants it, and not where it does not (no-new-privileges)", async () => {
    const script = "sudo -n id -u; echo rc=$?";
    const granted = await runJob(
      factory(),
      policy({ memory: "512MiB" }, "isolation: { sudo: true }\n"),
      {
        steps: [{ name: "sudo", argv: ["bash", "-c", script] }],
      },
    );
    expect(granted.stdout).toBe("0\nrc=0\n");
    const refused = await runJob(
      factory(),
      policy({ memory: "512MiB" }, "isolation: { sudo: false }\n"),
      {
        steps: [{ name: "sudo", argv: ["bash", "-c", script] }],
      },
    );
    expect(refused.stdout).toMatch(/^rc=1\n$/);
  });

  it("the caps the host's cgroups hold match the policy (memory with no swap beyond it, pids, CPU quota)", async () => {
    const p = policy({ cpus: 1, memory: "384MiB", disk: "128MiB", pids: 100 });
    let seen: HostCgroupCaps | undefined;
    let seenError: unknown;
    const id = `sbx-ctest-${process.pid}-${++counter}`;
    const box = createContainerSandbox({
      id,
      policy: p,
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
      onEvent: (e) => {
        if (e.type !== "step-start") return;
        void docker()
          .getContainer(id)
          .inspect()
          .then((info) => {
            seen = hostCgroupCaps(cgroupLayout("/sys/fs/cgroup", info.Id));
            // Docker's view: memory-swap equals memory, so the job gets no swap.
            expect(info.HostConfig.MemorySwap).toBe(info.HostConfig.Memory);
          })
          .catch((error: unknown) => (seenError = error));
      },
    });
    try {
      const report = await box.run({ steps: [{ name: "wait", argv: ["sleep", "3"] }] });
      expect(report.outcome).toBe("success");
    } finally {
      await box.destroy();
    }
    expect(seenError).toBeUndefined();
    expect(seen).toMatchObject({
      memoryBytes: String(384 * 2 ** 20),
      pids: String(hostPidsLimit("runsc", 100)),
      cpuQuotaUs: seen?.cpuPeriodUs,
    });
    expect(Number(seen?.cpuPeriodUs)).toBeGreaterThan(0);
    expect(seen?.procs.length).toBeGreaterThan(0);
  });
});

/** Builds a one-file Debian package in the job and installs it with sudo, as a job would. */
const INSTALL_DEB = String.raw`
set -e
mkdir -p /tmp/p/DEBIAN /tmp/p/usr/bin
printf 'Package: hello-sbx\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.test>\nDescription: t\n' > /tmp/p/DEBIAN/control
printf '#!/bin/sh\necho hello from the package\n' > /tmp/p/usr/bin/hello-sbx
chmod 755 /tmp/p/usr/bin/hello-sbx
dpkg-deb --build /tmp/p /tmp/hello.deb >/dev/null
sudo dpkg -i /tmp/hello.deb >/dev/null
hello-sbx
sudo sh -c 'echo planted > /planted; echo planted > /etc/planted'
grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1
`;

/** One bash step in a fresh container, with or without sudo, on a 256 MiB workspace. */
const rootJob = (memory: string, sudo: boolean, script: string) =>
  runJob(factory(), policy({ memory, disk: "256MiB" }, `isolation: { sudo: ${sudo} }\n`), {
    steps: [{ name: "step", argv: ["bash", "-c", script] }],
  });

describe("container: the root file system", () => {
  it("with sudo, the system folders are writable as on a VM (sudo dpkg -i), in gVisor's memory: nothing reaches the host's layer, the image or the next job", async () => {
    const id = `sbx-ctest-${process.pid}-${++counter}`;
    let upperDir: string | undefined;
    let upperSeen: string[] | undefined;
    let stdout = "";
    const box = createContainerSandbox({
      id,
      policy: policy({ memory: "512MiB", disk: "256MiB" }, "isolation: { sudo: true }\n"),
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
      onEvent: (e) => {
        if (e.type === "output" && e.stream === "stdout") stdout += e.text;
        // While the second step runs, the first one's writes are done: look at Docker's layer.
        if (e.type === "step-start" && e.index === 1) {
          void docker()
            .getContainer(id)
            .inspect()
            .then((info) => {
              upperDir = (info.GraphDriver.Data as { UpperDir?: string }).UpperDir;
              upperSeen = upperDir ? readdirSync(upperDir, { recursive: true }).map(String) : [];
            });
        }
      },
    });
    try {
      const report = await box.run({
        steps: [
          { name: "install", argv: ["bash", "-c", INSTALL_DEB] },
          { name: "wait", argv: ["sleep", "2"] },
        ],
      });
      expect(report.outcome, stdout).toBe("success");
    } finally {
      await box.destroy();
    }
    expect(stdout).toBe("hello from the package\nrw\n");
    // The writes were in the sandbox's memory: Docker's writable layer on the host stayed empty.
    expect(upperDir).toBeDefined();
    expect(upperSeen?.filter((f) => /planted|hello-sbx|dpkg/.test(f))).toEqual([]);

    const next = await rootJob(
      "512MiB",
      true,
      "command -v hello-sbx; dpkg -s hello-sbx >/dev/null 2>&1 && echo installed; cat /planted /etc/planted 2>/dev/null; echo clean",
    );
    expect(next.stdout).toBe("clean\n");
  });

  it("without sudo the root is read-only, as Docker mounts it", async () => {
    const r = await rootJob(
      "512MiB",
      false,
      "grep ' / ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1",
    );
    expect(r.stdout).toBe("ro\n");
  });

  it("filling the writable root is a memory breach, with the memory reason and status", async () => {
    const r = await rootJob("384MiB", true, "sudo dd if=/dev/zero of=/usr/fill bs=1M count=1024");
    expect(r.report.breach?.kind).toBe("memory");
    expect(r.report.breach?.message).toBe("memory limit 384MiB exceeded");
    expect(r.report.exitStatus).toBe(EXIT_STATUS.memory);
  });
});

describe("container: the tools a job uses", () => {
  it("ls -l, stat and find -ls work under runsc (the image's statx library, decision 0011), and a missing file is still ENOENT", async () => {
    const r = await rootJob(
      "512MiB",
      false,
      [
        "ls -l /etc/hostname | cut -c1-10",
        "stat -c '%U %F' /etc",
        "find /etc/hostname -ls | wc -l",
        "ls -la ~ >/dev/null && echo listed",
        "stat /nonexistent 2>&1; echo rc=$?",
        `grep -q ${STATX_COMPAT_PATH} /proc/self/maps && echo preloaded`,
      ].join("\n"),
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      "-rw-r--r--\nroot directory\n1\nlisted\n" +
        "stat: cannot statx '/nonexistent': No such file or directory\nrc=1\npreloaded\n",
    );
  });
});

describe("container: runtimes", () => {
  it("runc runs only when the policy names it, and the report says NOT HARDENED", async () => {
    const events: string[] = [];
    const box = createContainerSandbox({
      id: `sbx-ctest-${process.pid}-${++counter}`,
      policy: policy({ memory: "512MiB" }, "isolation: { runtime: runc }\n"),
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
      onEvent: (e) => {
        if (e.type === "phase" && e.detail) events.push(e.detail);
      },
    });
    try {
      const report = await box.run({ steps: [{ name: "s", argv: ["true"] }] });
      expect(report.backend).toBe("container (runc, NOT HARDENED)");
      expect(report.outcome).toBe("success");
    } finally {
      await box.destroy();
    }
    expect(events.join("\n")).toMatch(/runtime runc is NOT HARDENED/);
  });

  it("a runtime the daemon lacks is refused before anything is created", async () => {
    const id = `sbx-ctest-${process.pid}-${++counter}`;
    const box = createContainerSandbox({
      id,
      policy: policy({ memory: "512MiB" }, "isolation: { runtime: sysbox-runc }\n"),
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
    });
    await expect(box.run({ steps: [{ name: "s", argv: ["true"] }] })).rejects.toMatchObject({
      code: "SBX_CONTAINER_RUNTIME",
    });
    await box.destroy();
    expect(await ourContainers(id)).toEqual([]);
    expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
  });
});

describe("container: ready deadline", () => {
  it("an agent that never says ready ends the job as infrastructure, once, with nothing left (L35)", async () => {
    const phases: string[] = [];
    const id = `sbx-ctest-${process.pid}-${++counter}`;
    const box = createContainerSandbox({
      id,
      policy: policy({ memory: "512MiB", disk: "128MiB", timeout: "2m" }),
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
      // No runsc sandbox starts Node.js in 0.3 s: the deadline always passes first.
      readyTimeoutMs: 300,
      onEvent: (e) => {
        if (e.type === "phase") phases.push(e.phase);
      },
    });
    let report;
    try {
      report = await box.run({ steps: [{ name: "never", argv: ["true"] }] });
    } finally {
      await box.destroy();
    }
    expect(report.outcome).toBe("infrastructure");
    expect(report.exitStatus).toBe(EXIT_STATUS.infrastructure);
    expect(report.error).toBe("the container's agent did not say ready within 0.3s");
    expect(report.breach).toBeUndefined();
    expect(report.steps).toEqual([]);
    // No second attempt, unlike the VM's boot retry (L19).
    expect(phases.filter((p) => p === "boot")).toEqual(["boot"]);
    expect(phases).not.toContain("ready");
    await expectNothingLeft(id);
  });
});

describe("container: a daemon that refuses the container", () => {
  it("fails with SBX_CONTAINER_START in the daemon's words, and destroy leaves nothing", async () => {
    const id = `sbx-ctest-${process.pid}-${++counter}`;
    // A container already holds the sandbox's name, so the daemon refuses the create (409).
    const squatter = await docker().createContainer({
      name: id,
      Image: (await ensureImage(docker(), template)).tag,
      Cmd: ["true"],
      HostConfig: { Runtime: "runsc", NetworkMode: "none" },
    });
    const box = createContainerSandbox({
      id,
      policy: policy({ memory: "512MiB", disk: "128MiB" }),
      stateDir: TEST_STATE_DIR,
      image: template,
      dockerSocket: socket,
    });
    let error: unknown;
    try {
      await box.run({ steps: [{ name: "never", argv: ["true"] }] });
    } catch (e) {
      error = e;
    } finally {
      await box.destroy();
    }
    expect(error).toMatchObject({
      code: "SBX_CONTAINER_START",
      message: expect.stringMatching(
        /could not create the container under runsc: .*already in use/,
      ) as string,
      hint: expect.stringContaining("/var/log/sandboxed-dockerd.log") as string,
    });
    // The name is the sandbox's on sandboxed's own daemon: destroy removes what holds it.
    await squatter.remove({ force: true }).catch(() => undefined);
    await expectNothingLeft(id);
  });
});

describe("container: crash recovery", () => {
  it("after kill -9 of the runner mid-job, gc leaves no container, mount, netns or record", async () => {
    const bin = path.join(packageRoot(), "bin", "sandboxed.js");
    const env = { ...process.env, SANDBOXED_STATE_DIR: TEST_STATE_DIR };
    const runner = spawn(
      process.execPath,
      [
        bin,
        "sandbox",
        "exec",
        "--backend",
        "container",
        "--docker-socket",
        socket,
        "--template",
        "minimal",
        "--",
        "sleep",
        "600",
      ],
      { env, stdio: ["ignore", "pipe", "pipe"] },
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
    const mine = readdirSync(path.join(TEST_STATE_DIR, "sandboxes")).filter((id) =>
      readFileSync(path.join(TEST_STATE_DIR, "sandboxes", id, "owner.json"), "utf8").includes(
        `"pid":${runner.pid}`,
      ),
    );
    expect(mine).toHaveLength(1);
    const id = mine[0]!;
    runner.kill("SIGKILL");
    await new Promise((r) => runner.on("exit", r));
    expect(await ourContainers(id)).toHaveLength(1); // the orphan gc must find
    const mounts = () =>
      readFileSync("/proc/mounts", "utf8")
        .split("\n")
        .filter((l) => l.includes(id));
    expect(mounts()).not.toEqual([]);

    const { stdout } = await exec(process.execPath, [bin, "gc"], { env });
    expect(stdout).toContain(`removed ${id}`);
    expect(await ourContainers(id)).toEqual([]);
    expect(mounts()).toEqual([]);
    expect(existsSync(path.join(TEST_STATE_DIR, "sandboxes", id))).toBe(false);
    const { stdout: netns } = await exec("ip", ["netns", "list"]);
    expect(netns).not.toContain(id);
  });
});
