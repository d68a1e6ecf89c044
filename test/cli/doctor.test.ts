// `sandboxed doctor` (issue 6 "Operating it", issue 7 runtimes): each host gap gives a finding
// with a fix, failures exit 1, Docker is optional.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_DOCKER_SOCKET,
  dockerFact,
  renderDoctorJson,
  renderDoctorTable,
} from "../../runner/cli/doctor-command.js";
import { assessHost, doctorExitCode } from "../../runner/cli/doctor.js";
import type { Finding, HostFacts, Level, RuntimeFact } from "../../runner/cli/doctor.js";

const GiB = 2 ** 30;

/** GET /info `Runtimes` of scripts/dockerd.sh's daemon on this project's Debian 12 host, probed. */
const RUNC: RuntimeFact = { name: "runc", path: "runc", args: [] };
const RUNSC: RuntimeFact = {
  name: "runsc",
  path: "/usr/bin/runsc",
  args: ["--network=host", "--oci-seccomp", "--overlay2=root:memory"],
  probe: { found: true, output: "runsc version 0.0~20221219.0" },
};
const SYSBOX: RuntimeFact = {
  name: "sysbox-runc",
  path: "/usr/bin/sysbox-runc",
  args: [],
  probe: { found: true, output: "sysbox-runc" },
};
const GONE = { found: false as const, error: "spawn /usr/bin/runsc ENOENT" };

/** A host where everything is in order. */
const HEALTHY: HostFacts = {
  isRoot: true,
  nodeVersion: "v20.20.2",
  kvm: {
    present: true,
    accessible: true,
    probe: "kvm",
    cacheFile: "/var/lib/sandboxed/accel.json",
  },
  qemu: { found: true, output: "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)" },
  qemuImg: { found: true, output: "qemu-img version 7.2.22" },
  nft: { found: true, output: "nftables v1.0.6 (Lester Gooch #5)" },
  ip: { found: true, output: "ip utility, iproute2-6.1.0, libbpf 1.1.2" },
  tc: { found: true, output: "tc utility, iproute2-6.1.0, libbpf 1.1.2" },
  mmdebstrap: { found: true, output: "mmdebstrap 1.3.5" },
  cgroup: {
    version: 2,
    controllers: ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"],
    subtreeControl: ["cpuset", "cpu", "io", "memory", "pids"],
  },
  docker: {
    socket: "/run/sandboxed/docker.sock",
    reachable: true,
    version: "20.10.24+dfsg1",
    cgroupVersion: "1",
    runtimes: [{ name: "io.containerd.runc.v2", path: "runc", args: [] }, RUNC, RUNSC],
    defaultRuntime: "runc",
    cc: { found: true, output: "cc (Debian 12.2.0-14+deb12u1) 12.2.0" },
  },
  disk: { stateDir: "/var/lib/sandboxed", measured: "/var/lib/sandboxed", freeBytes: 100 * GiB },
};

const NOT_FOUND = { found: false as const, error: "spawn ENOENT" };

function find(findings: readonly Finding[], check: string): Finding {
  const f = findings.find((x) => x.check === check);
  if (!f) throw new Error(`no ${check} finding`);
  return f;
}

describe("assessHost", () => {
  it("a healthy host: every check ok, exit 0, in setup order", () => {
    const findings = assessHost(HEALTHY);
    expect(findings.map((f) => `${f.check}:${f.level}`)).toEqual([
      "node:ok",
      "root:ok",
      "kvm:ok",
      "qemu:ok",
      "nftables:ok",
      "iproute2:ok",
      "cgroups:ok",
      "disk:ok",
      "mmdebstrap:ok",
      "docker:ok",
      "docker runtimes:ok",
      "docker image compiler:ok",
    ]);
    expect(findings.every((f) => f.ok && f.fix === undefined)).toBe(true);
    expect(doctorExitCode(findings)).toBe(0);
  });

  it.each<{
    name: string;
    facts: Partial<HostFacts>;
    check: string;
    level: Level;
    detail: RegExp;
    fix?: RegExp;
  }>([
    // Node
    {
      name: "node too old",
      facts: { nodeVersion: "v20.11.1" },
      check: "node",
      level: "fail",
      detail: /v20\.11\.1; sandboxed needs 20\.12/,
      fix: /Node\.js 20/,
    },
    {
      name: "node at the minimum",
      facts: { nodeVersion: "v20.12.0" },
      check: "node",
      level: "ok",
      detail: /v20\.12\.0/,
    },
    {
      name: "node 22",
      facts: { nodeVersion: "v22.1.0" },
      check: "node",
      level: "ok",
      detail: /v22/,
    },
    // root
    {
      name: "not root",
      facts: { isRoot: false },
      check: "root",
      level: "warn",
      detail: /not root/,
      fix: /^sudo sandboxed doctor$/,
    },
    // KVM
    {
      name: "kvm missing",
      facts: { kvm: { ...HEALTHY.kvm, present: false, accessible: false, probe: "none" } },
      check: "kvm",
      level: "fail",
      detail: /\/dev\/kvm is missing: VMs fall back to TCG/,
      fix: /modprobe kvm_intel.*--allow-tcg/,
    },
    {
      name: "kvm not accessible as root",
      facts: { kvm: { ...HEALTHY.kvm, accessible: false, probe: "none" } },
      check: "kvm",
      level: "fail",
      detail: /not readable and writable/,
      fix: /chmod 660 \/dev\/kvm/,
    },
    {
      name: "kvm not accessible, not root",
      facts: { isRoot: false, kvm: { ...HEALTHY.kvm, accessible: false, probe: "none" } },
      check: "kvm",
      level: "fail",
      detail: /not readable/,
      fix: /^sudo sandboxed doctor/,
    },
    {
      name: "kvm probe boot failed (nested KVM)",
      facts: {
        kvm: {
          ...HEALTHY.kvm,
          probe: "tcg",
          probeReason: "a KVM probe boot failed (nested or broken KVM) (cached)",
        },
      },
      check: "kvm",
      level: "fail",
      detail: /probe boot failed on this host boot \(a KVM probe boot failed/,
      fix: /dmesg.*rm \/var\/lib\/sandboxed\/accel\.json/,
    },
    {
      name: "kvm not probed yet",
      facts: { kvm: { ...HEALTHY.kvm, probe: "none" } },
      check: "kvm",
      level: "ok",
      detail: /first sandbox confirms it/,
    },
    // QEMU
    {
      name: "qemu missing",
      facts: { qemu: NOT_FOUND },
      check: "qemu",
      level: "fail",
      detail: /^qemu-system-x86_64 not found$/,
      fix: /apt-get install qemu-system-x86 qemu-utils/,
    },
    {
      name: "qemu-img missing",
      facts: { qemuImg: NOT_FOUND },
      check: "qemu",
      level: "fail",
      detail: /^qemu-img not found$/,
      fix: /qemu-utils/,
    },
    {
      name: "qemu older than tested",
      facts: {
        qemu: { found: true, output: "QEMU emulator version 5.2.0 (Debian 1:5.2+dfsg-11)" },
      },
      check: "qemu",
      level: "warn",
      detail: /QEMU 5\.2\.0; sandboxed is tested with 7\.2/,
      fix: /Debian 12/,
    },
    {
      name: "qemu newer",
      facts: { qemu: { found: true, output: "QEMU emulator version 9.2.0" } },
      check: "qemu",
      level: "ok",
      detail: /^QEMU 9\.2\.0$/,
    },
    {
      name: "qemu version unreadable",
      facts: { qemu: { found: true, output: "something odd" } },
      check: "qemu",
      level: "warn",
      detail: /cannot read the version/,
    },
    // nftables, iproute2, mmdebstrap
    {
      name: "nft missing",
      facts: { nft: NOT_FOUND },
      check: "nftables",
      level: "fail",
      detail: /nft not found/,
      fix: /apt-get install nftables/,
    },
    {
      name: "tc missing",
      facts: { tc: NOT_FOUND },
      check: "iproute2",
      level: "fail",
      detail: /^tc not found/,
      fix: /apt-get install iproute2/,
    },
    {
      name: "ip and tc missing",
      facts: { ip: NOT_FOUND, tc: NOT_FOUND },
      check: "iproute2",
      level: "fail",
      detail: /^ip and tc not found/,
    },
    {
      name: "mmdebstrap missing",
      facts: { mmdebstrap: NOT_FOUND },
      check: "mmdebstrap",
      level: "fail",
      detail: /builds VM templates/,
      fix: /apt-get install mmdebstrap/,
    },
    // cgroups
    {
      name: "no cgroup fs",
      facts: { cgroup: { version: "none" } },
      check: "cgroups",
      level: "fail",
      detail: /no cgroup file system/,
      fix: /mount -t cgroup2/,
    },
    {
      name: "v2 without pids",
      facts: {
        cgroup: { version: 2, controllers: ["cpu", "memory"], subtreeControl: ["cpu", "memory"] },
      },
      check: "cgroups",
      level: "fail",
      detail: /without the pids controller/,
      fix: /systemd\.unified_cgroup_hierarchy=1/,
    },
    {
      name: "v2, cpu not enabled in the root subtree",
      facts: {
        cgroup: {
          version: 2,
          controllers: ["cpu", "memory", "pids"],
          subtreeControl: ["memory", "pids"],
        },
      },
      check: "cgroups",
      level: "warn",
      detail: /cpu not enabled in \/sys\/fs\/cgroup\/cgroup\.subtree_control/,
      fix: /^echo '\+cpu' > \/sys\/fs\/cgroup\/cgroup\.subtree_control$/,
    },
    {
      name: "v2, none enabled",
      facts: { cgroup: { version: 2, controllers: ["cpu", "memory", "pids"], subtreeControl: [] } },
      check: "cgroups",
      level: "warn",
      detail: /cpu, memory, pids not enabled/,
      fix: /'\+cpu \+memory \+pids'/,
    },
    {
      name: "v1 with all three",
      facts: { cgroup: { version: 1, mounted: ["cpu", "memory", "pids"] } },
      check: "cgroups",
      level: "warn",
      detail: /cgroup v1: cpu, memory and pids caps hold/,
      fix: /unified_cgroup_hierarchy/,
    },
    {
      name: "v1 without memory",
      facts: { cgroup: { version: 1, mounted: ["cpu", "pids"] } },
      check: "cgroups",
      level: "fail",
      detail: /without the memory hierarchy/,
    },
    // disk
    {
      name: "disk plenty",
      facts: { disk: { ...HEALTHY.disk, freeBytes: 20 * GiB } },
      check: "disk",
      level: "ok",
      detail: /^20\.0 GiB free in \/var\/lib\/sandboxed$/,
    },
    {
      name: "disk just under 20 GiB",
      facts: { disk: { ...HEALTHY.disk, freeBytes: 20 * GiB - 1 } },
      check: "disk",
      level: "warn",
      detail: /under 20 GiB/,
      fix: /stateDir in sandboxed\.yml/,
    },
    {
      name: "disk at 2 GiB",
      facts: { disk: { ...HEALTHY.disk, freeBytes: 2 * GiB } },
      check: "disk",
      level: "warn",
      detail: /2\.0 GiB free/,
    },
    {
      name: "disk under 2 GiB",
      facts: { disk: { ...HEALTHY.disk, freeBytes: 2 * GiB - 1 } },
      check: "disk",
      level: "fail",
      detail: /a template alone takes about 1\.2 GiB/,
    },
    {
      name: "state dir not made yet: its parent measured",
      facts: { disk: { stateDir: "/srv/sbx/state", measured: "/srv", freeBytes: 50 * GiB } },
      check: "disk",
      level: "ok",
      detail: /in \/srv \(\/srv\/sbx\/state does not exist yet\)/,
    },
    {
      name: "disk unreadable",
      facts: { disk: { stateDir: "/x", measured: "/x", error: "EACCES" } },
      check: "disk",
      level: "fail",
      detail: /cannot read the free space of \/x: EACCES/,
      fix: /^mkdir -p \/x$/,
    },
    // Docker: optional, so never a failure
    {
      name: "dockerd absent",
      facts: {
        docker: { socket: "/run/sandboxed/docker.sock", reachable: false, error: "ENOENT" },
      },
      check: "docker",
      level: "warn",
      detail:
        /not reachable on \/run\/sandboxed\/docker\.sock \(ENOENT\).*VM backend does not need it/,
      fix: /backend: container: sh scripts\/dockerd\.sh as root/,
    },
    {
      name: "runtimes when dockerd absent",
      facts: { docker: { socket: "/s", reachable: false, error: "ENOENT" } },
      check: "docker runtimes",
      level: "warn",
      detail: /not checked/,
    },
    {
      name: "dockerd up: version, socket and cgroup version",
      facts: {},
      check: "docker",
      level: "ok",
      detail: /^Docker 20\.10\.24\+dfsg1 on \/run\/sandboxed\/docker\.sock, cgroup v1$/,
    },
    {
      name: "docker version and cgroup version unknown",
      facts: { docker: { socket: "/s", reachable: true, runtimes: [RUNSC] } },
      check: "docker",
      level: "ok",
      detail: /^Docker \(version unknown\) on \/s$/,
    },
    {
      name: "no C compiler for the image's statx library",
      facts: { docker: { ...HEALTHY.docker, cc: NOT_FOUND } as HostFacts["docker"] },
      check: "docker image compiler",
      level: "warn",
      detail:
        /^no C compiler \(spawn ENOENT\): a template's first container job cannot build its image/,
      fix: /^apt-get install gcc libc6-dev/,
    },
    // Docker runtimes: runc alone does not isolate a job
    {
      name: "only runc",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          version: "26",
          runtimes: [RUNC],
          defaultRuntime: "runc",
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail: /^runc \(default runc\): no hardened runtime/,
      fix: /scripts\/dockerd\.sh .*\(installs runsc and registers it\); or sysbox/,
    },
    {
      name: "no runtimes at all",
      facts: { docker: { socket: "/s", reachable: true, runtimes: [] } },
      check: "docker runtimes",
      level: "warn",
      detail: /^none: no hardened runtime/,
    },
    {
      name: "runsc, as scripts/dockerd.sh registers it",
      facts: {},
      check: "docker runtimes",
      level: "ok",
      detail:
        /^io\.containerd\.runc\.v2, runc, runsc \(default runc\); hardened: runsc \(runsc version 0\.0~20221219\.0\)$/,
    },
    {
      name: "runsc registered but its binary is gone",
      facts: {
        docker: { socket: "/s", reachable: true, runtimes: [RUNC, { ...RUNSC, probe: GONE }] },
      },
      check: "docker runtimes",
      level: "warn",
      detail:
        /^runsc is registered but \/usr\/bin\/runsc does not run \(spawn \/usr\/bin\/runsc ENOENT\): no usable hardened runtime$/,
      fix: /^sh scripts\/dockerd\.sh/,
    },
    {
      name: "runsc without --network=host (gVisor netstack: no network)",
      facts: { docker: { socket: "/s", reachable: true, runtimes: [{ ...RUNSC, args: [] }] } },
      check: "docker runtimes",
      level: "warn",
      detail: /^runsc lacks runtimeArgs --network=host, so jobs in it get no network: no usable/,
      fix: /scripts\/dockerd\.sh/,
    },
    {
      name: "runsc without --oci-seccomp (the sandbox's seccomp profile ignored inside gVisor)",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          runtimes: [{ ...RUNSC, args: ["--network=host"] }],
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail:
        /^runsc lacks runtimeArgs --oci-seccomp, so the sandbox's seccomp profile is not applied/,
      fix: /scripts\/dockerd\.sh/,
    },
    {
      name: "runsc without the root overlay (usable, but the root stays read-only with sudo)",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          runtimes: [{ ...RUNSC, args: ["--network=host", "--oci-seccomp"] }],
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail:
        /hardened: runsc \(runsc version .*\); runsc lacks runtimeArgs --overlay2=root:memory, so a container's root stays read-only even with sudo/,
      fix: /scripts\/dockerd\.sh/,
    },
    {
      name: "runsc overlaying every mount in memory (the workspace's disk cap would not hold)",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          runtimes: [{ ...RUNSC, args: [...RUNSC.args, "--overlay2=all:memory"] }],
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail:
        /^runsc has runtimeArgs --overlay2=all:memory, which holds the workspace in memory, .*: no usable hardened runtime$/,
    },
    {
      name: "runsc with the deprecated --overlay (every mount in memory)",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          runtimes: [{ ...RUNSC, args: [...RUNSC.args, "--overlay"] }],
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail: /^runsc has runtimeArgs --overlay, which holds the workspace in memory/,
    },
    {
      name: "runsc with other args only",
      facts: {
        docker: {
          socket: "/s",
          reachable: true,
          runtimes: [{ ...RUNSC, args: ["--network=sandbox", "--debug"] }],
        },
      },
      check: "docker runtimes",
      level: "warn",
      detail: /runsc lacks runtimeArgs --network=host/,
    },
    {
      name: "runsc broken, sysbox usable: still a warning, naming what works",
      facts: {
        docker: { socket: "/s", reachable: true, runtimes: [{ ...RUNSC, probe: GONE }, SYSBOX] },
      },
      check: "docker runtimes",
      level: "warn",
      detail: /^runsc is registered but .*; usable: sysbox-runc \(sysbox-runc\)$/,
    },
    {
      name: "sysbox only",
      facts: { docker: { socket: "/s", reachable: true, runtimes: [RUNC, SYSBOX] } },
      check: "docker runtimes",
      level: "ok",
      detail: /hardened: sysbox-runc \(sysbox-runc\)$/,
    },
    {
      name: "both hardened",
      facts: { docker: { socket: "/s", reachable: true, runtimes: [RUNC, RUNSC, SYSBOX] } },
      check: "docker runtimes",
      level: "ok",
      detail: /hardened: runsc \(runsc version 0\.0~20221219\.0\), sysbox-runc \(sysbox-runc\)$/,
    },
    {
      name: "hardened runtime not probed: its path is shown",
      facts: {
        docker: { socket: "/s", reachable: true, runtimes: [{ ...SYSBOX, probe: undefined }] },
      },
      check: "docker runtimes",
      level: "ok",
      detail: /hardened: sysbox-runc \(\/usr\/bin\/sysbox-runc\)$/,
    },
  ])("$name", ({ facts, check, level, detail, fix }) => {
    const f = find(assessHost({ ...HEALTHY, ...facts }), check);
    expect(f.level).toBe(level);
    expect(f.ok).toBe(level === "ok");
    expect(f.detail).toMatch(detail);
    if (level === "ok") expect(f.fix).toBeUndefined();
    if (fix) expect(f.fix).toMatch(fix);
  });

  it("every gap that has a fix states it", () => {
    const worst: HostFacts = {
      ...HEALTHY,
      isRoot: false,
      nodeVersion: "v18.0.0",
      kvm: { ...HEALTHY.kvm, present: false, accessible: false, probe: "none" },
      qemu: NOT_FOUND,
      qemuImg: NOT_FOUND,
      nft: NOT_FOUND,
      ip: NOT_FOUND,
      tc: NOT_FOUND,
      mmdebstrap: NOT_FOUND,
      cgroup: { version: "none" },
      docker: { socket: "/s", reachable: true, runtimes: [RUNC] },
      disk: { ...HEALTHY.disk, freeBytes: GiB },
    };
    const gaps = assessHost(worst).filter((f) => !f.ok);
    expect(gaps.map((f) => f.check)).toEqual([
      "node",
      "root",
      "kvm",
      "qemu",
      "nftables",
      "iproute2",
      "cgroups",
      "disk",
      "mmdebstrap",
      "docker runtimes",
    ]);
    expect(gaps.filter((f) => !f.fix)).toEqual([]);
  });
});

describe("exit status and --allow-tcg", () => {
  it.each([
    { name: "healthy", facts: {}, allowTcg: false, code: 0 },
    {
      name: "warnings only (cgroup v1, no docker)",
      facts: {
        cgroup: { version: 1, mounted: ["cpu", "memory", "pids"] } as const,
        docker: { socket: "/s", reachable: false as const, error: "ENOENT" },
      },
      allowTcg: false,
      code: 0,
    },
    {
      name: "no KVM",
      facts: { kvm: { ...HEALTHY.kvm, present: false, accessible: false, probe: "none" as const } },
      allowTcg: false,
      code: 1,
    },
    {
      name: "no KVM with --allow-tcg: a warning",
      facts: { kvm: { ...HEALTHY.kvm, present: false, accessible: false, probe: "none" as const } },
      allowTcg: true,
      code: 0,
    },
    {
      name: "failed probe with --allow-tcg",
      facts: { kvm: { ...HEALTHY.kvm, probe: "tcg" as const } },
      allowTcg: true,
      code: 0,
    },
    {
      name: "--allow-tcg does not excuse a missing QEMU",
      facts: { qemu: NOT_FOUND },
      allowTcg: true,
      code: 1,
    },
  ])("$name → $code", ({ facts, allowTcg, code }) => {
    expect(doctorExitCode(assessHost({ ...HEALTHY, ...facts }, { allowTcg }))).toBe(code);
  });

  it("--allow-tcg drops the hint to use it", () => {
    const facts = {
      ...HEALTHY,
      kvm: { ...HEALTHY.kvm, present: false, accessible: false, probe: "none" as const },
    };
    expect(find(assessHost(facts, { allowTcg: true }), "kvm").fix).not.toContain("--allow-tcg");
  });
});

describe("output", () => {
  const facts: HostFacts = {
    ...HEALTHY,
    nft: NOT_FOUND,
    docker: { socket: DEFAULT_DOCKER_SOCKET, reachable: false, error: "ENOENT" },
  };

  it("a table: check, status, detail; a fix line under each gap; a summary", () => {
    const out = renderDoctorTable(assessHost(facts));
    const lines = out.split("\n");
    expect(lines[0]).toBe("check            status  detail");
    expect(lines[1]).toBe("node             ok      Node.js v20.20.2");
    expect(out).toContain(
      "nftables         FAIL    nft not found (spawn ENOENT)\n                         fix: apt-get install nftables\n",
    );
    expect(out).toContain("docker           warn    dockerd not reachable");
    expect(
      out.endsWith(
        "\n1 failed, 2 warning(s): sandboxes will not run well on this host until the failures are fixed\n",
      ),
    ).toBe(true);
  });

  it("a clean host ends with 'all checks passed'", () => {
    expect(renderDoctorTable(assessHost(HEALTHY)).endsWith("\nall checks passed\n")).toBe(true);
  });

  it("--json: ok and the findings", () => {
    const json = JSON.parse(renderDoctorJson(assessHost(facts))) as {
      ok: boolean;
      findings: Finding[];
    };
    expect(json.ok).toBe(false);
    expect(find(json.findings, "nftables")).toEqual({
      check: "nftables",
      ok: false,
      level: "fail",
      detail: "nft not found (spawn ENOENT)",
      fix: "apt-get install nftables",
    });
  });
});

describe("dockerFact (GET /_ping and /info over the unix socket)", () => {
  async function fakeDockerd(reply: (url: string) => { status: number; body: string }) {
    const socket = path.join(mkdtempSync(path.join(tmpdir(), "sbx-docker-")), "docker.sock");
    const server = createServer((req, res) => {
      const r = reply(req.url ?? "");
      res.writeHead(r.status, { "content-type": "application/json" });
      res.end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    return { socket, close: () => new Promise<void>((r) => server.close(() => r())) };
  }

  /** An executable standing in for a runtime binary: `--version` prints a line. */
  function fakeRuntime(line: string): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sbx-runtime-")), "runtime");
    writeFileSync(file, `#!/bin/sh\necho '${line}'\n`, { mode: 0o755 });
    return file;
  }

  it("reads version, cgroup version and runtimes, and runs each hardened runtime", async () => {
    const runsc = fakeRuntime("runsc version 0.0~20221219.0");
    const d = await fakeDockerd((url) =>
      url === "/_ping"
        ? { status: 200, body: "OK" }
        : {
            status: 200,
            body: JSON.stringify({
              ServerVersion: "20.10.24+dfsg1",
              CgroupVersion: "1",
              DefaultRuntime: "runc",
              Runtimes: {
                runsc: { path: runsc, runtimeArgs: ["--network=host", "--oci-seccomp"] },
                runc: { path: "runc" },
                "sysbox-runc": { path: "/nonexistent/sysbox-runc" },
              },
            }),
          },
    );
    try {
      expect(await dockerFact(d.socket)).toEqual({
        socket: d.socket,
        reachable: true,
        version: "20.10.24+dfsg1",
        cgroupVersion: "1",
        runtimes: [
          { name: "runc", path: "runc", args: [] },
          {
            name: "runsc",
            path: runsc,
            args: ["--network=host", "--oci-seccomp"],
            probe: { found: true, output: "runsc version 0.0~20221219.0" },
          },
          {
            name: "sysbox-runc",
            path: "/nonexistent/sysbox-runc",
            args: [],
            probe: { found: false, error: expect.stringContaining("ENOENT") as string },
          },
        ],
        defaultRuntime: "runc",
        // The host's own compiler, whatever it says of itself.
        cc: expect.objectContaining({ found: expect.any(Boolean) as boolean }) as object,
      });
    } finally {
      await d.close();
    }
  });

  it("an /info that is not 200 is unreachable", async () => {
    const d = await fakeDockerd((url) =>
      url === "/_ping" ? { status: 200, body: "OK" } : { status: 500, body: "{}" },
    );
    try {
      expect(await dockerFact(d.socket)).toEqual({
        socket: d.socket,
        reachable: false,
        error: "GET /info answered 500",
      });
    } finally {
      await d.close();
    }
  });

  it("a ping that is not 200 is unreachable", async () => {
    const d = await fakeDockerd(() => ({ status: 500, body: "{}" }));
    try {
      expect(await dockerFact(d.socket)).toEqual({
        socket: d.socket,
        reachable: false,
        error: "GET /_ping answered 500",
      });
    } finally {
      await d.close();
    }
  });

  it("no socket: unreachable with the errno", async () => {
    const socket = path.join(tmpdir(), "sbx-no-such-dir", "docker.sock");
    expect(await dockerFact(socket)).toEqual({ socket, reachable: false, error: "ENOENT" });
  });
});

describe("the default socket", () => {
  it("is the dedicated daemon's (scripts/dockerd.sh), not /var/run/docker.sock", () => {
    expect(DEFAULT_DOCKER_SOCKET).toBe("/run/sandboxed/docker.sock");
    const script = readFileSync(new URL("../../scripts/dockerd.sh", import.meta.url), "utf8");
    expect(script).toContain(`SOCKET="\${SANDBOXED_DOCKER_SOCKET:-${DEFAULT_DOCKER_SOCKET}}"`);
  });
});
