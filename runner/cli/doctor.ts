/**
 * `sandboxed doctor`: is this host fit to run sandboxes, and how to fix each gap (issue 6,
 * "Operating it"; issue 7 for container runtimes). This file is the pure half: host facts in,
 * findings out, so every verdict has a table test. doctor-command.ts gathers the facts and prints.
 *
 * Levels: `fail` breaks the default (VM) backend, and doctor exits 1; `warn` works but is worse
 * than it should be, or concerns the optional container backend (Docker); `ok`.
 */
import { dockerFindings } from "./doctor-docker.js";
import type { DockerFact } from "./doctor-docker.js";
import { finding } from "./doctor-finding.js";
import type { Finding, Level, ToolFact } from "./doctor-finding.js";

export type { Finding, Level, ToolFact } from "./doctor-finding.js";
export type { DockerFact, RuntimeFact } from "./doctor-docker.js";
export { HARDENED_RUNTIMES } from "./doctor-docker.js";

export type CgroupFact =
  | {
      readonly version: 2;
      /** /sys/fs/cgroup/cgroup.controllers */
      readonly controllers: readonly string[];
      /** /sys/fs/cgroup/cgroup.subtree_control */
      readonly subtreeControl: readonly string[];
    }
  /** v1: the controllers whose hierarchy is mounted at /sys/fs/cgroup/<name>. */
  | { readonly version: 1; readonly mounted: readonly string[] }
  | { readonly version: "none" };

export interface HostFacts {
  readonly isRoot: boolean;
  /** process.version, e.g. v20.20.2 */
  readonly nodeVersion: string;
  readonly kvm: {
    readonly present: boolean;
    readonly accessible: boolean;
    /** What the last probe boot on this host boot found (the VM backend's accel.json), if any. */
    readonly probe: "kvm" | "tcg" | "none";
    readonly probeReason?: string;
    /** The probe's cache file; deleting it makes the next sandbox probe again. */
    readonly cacheFile: string;
  };
  readonly qemu: ToolFact;
  readonly qemuImg: ToolFact;
  readonly nft: ToolFact;
  readonly ip: ToolFact;
  readonly tc: ToolFact;
  readonly mmdebstrap: ToolFact;
  readonly cgroup: CgroupFact;
  readonly docker: DockerFact;
  readonly disk: {
    readonly stateDir: string;
    /** The folder measured: the state dir, or its nearest existing parent. */
    readonly measured: string;
    readonly freeBytes?: number;
    readonly error?: string;
  };
}

export interface AssessOptions {
  /** Accept TCG emulation (no usable KVM) as a warning: development and CI hosts. */
  readonly allowTcg?: boolean;
}

const GiB = 2 ** 30;
/** Below this the state dir cannot hold a template (about 1.2 GiB) and one sandbox's disks. */
export const DISK_FAIL_BYTES = 2 * GiB;
/** Below this a few sandboxes at the default policy's 20GiB disk can fill it. */
export const DISK_WARN_BYTES = 20 * GiB;
/** package.json engines. */
export const NODE_MIN: readonly [number, number] = [20, 12];
/** The QEMU this project is tested with (Debian 12). */
export const QEMU_TESTED: readonly [number, number] = [7, 2];
export const CGROUP_CONTROLLERS = ["cpu", "memory", "pids"] as const;
const APT = "apt-get install";

function versionOf(text: string): [number, number] | undefined {
  const m = /(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const atLeast = (v: readonly [number, number], min: readonly [number, number]): boolean =>
  v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}

function node(f: HostFacts): Finding {
  const v = versionOf(f.nodeVersion);
  if (v && atLeast(v, NODE_MIN)) return finding("node", "ok", `Node.js ${f.nodeVersion}`);
  return finding(
    "node",
    "fail",
    `Node.js ${f.nodeVersion}; sandboxed needs ${NODE_MIN.join(".")} or later`,
    "install Node.js 20 LTS or later (https://nodejs.org/en/download or NodeSource's Debian packages)",
  );
}

function root(f: HostFacts): Finding {
  if (f.isRoot) return finding("root", "ok", "running as root, as the service does");
  return finding(
    "root",
    "warn",
    "not root: the service runs as root (cgroups, network namespaces, per-sandbox uids), so checks below may differ for it",
    "sudo sandboxed doctor",
  );
}

function kvm(f: HostFacts, o: AssessOptions): Finding {
  const k = f.kvm;
  const gap: Level = o.allowTcg ? "warn" : "fail";
  const tcg =
    "VMs fall back to TCG emulation (6 to 12 s to boot instead of under a second, and guest code runs emulated)";
  if (!k.present) {
    return finding(
      "kvm",
      gap,
      `/dev/kvm is missing: ${tcg}`,
      "enable VT-x/AMD-V in the firmware and load the module (modprobe kvm_intel, or kvm_amd); on a cloud VM use an instance type with nested virtualisation" +
        (o.allowTcg ? "" : "; or accept emulation with --allow-tcg"),
    );
  }
  if (!k.accessible) {
    return finding(
      "kvm",
      gap,
      `/dev/kvm is not readable and writable by this user: ${tcg}`,
      f.isRoot
        ? "chgrp kvm /dev/kvm && chmod 660 /dev/kvm"
        : "sudo sandboxed doctor (the service runs as root)",
    );
  }
  if (k.probe === "tcg") {
    return finding(
      "kvm",
      gap,
      `/dev/kvm is there but a KVM probe boot failed on this host boot (${k.probeReason ?? "no reason recorded"}): ${tcg}`,
      `look for "KVM internal error" in dmesg; on a nested host enable nested virtualisation in the outer hypervisor; then rm ${k.cacheFile} to probe again`,
    );
  }
  if (k.probe === "kvm")
    return finding("kvm", "ok", "usable: a probe boot reached the guest agent on this host boot");
  return finding(
    "kvm",
    "ok",
    "/dev/kvm is read-write; the first sandbox confirms it with a probe boot",
  );
}

function qemu(f: HostFacts): Finding {
  const missing = [
    ...(f.qemu.found ? [] : ["qemu-system-x86_64"]),
    ...(f.qemuImg.found ? [] : ["qemu-img"]),
  ];
  if (missing.length > 0) {
    return finding(
      "qemu",
      "fail",
      `${missing.join(" and ")} not found`,
      `${APT} qemu-system-x86 qemu-utils`,
    );
  }
  const line = f.qemu.found ? f.qemu.output : "";
  const v = versionOf(line);
  if (!v)
    return finding(
      "qemu",
      "warn",
      `cannot read the version from "${line}"`,
      "qemu-system-x86_64 --version",
    );
  const shown = /version\s+(\S+)/.exec(line)?.[1] ?? v.join(".");
  if (!atLeast(v, QEMU_TESTED)) {
    return finding(
      "qemu",
      "warn",
      `QEMU ${shown}; sandboxed is tested with ${QEMU_TESTED.join(".")} (Debian 12), older releases may lack microvm options it uses`,
      `${APT} qemu-system-x86 from Debian 12 or later`,
    );
  }
  return finding("qemu", "ok", `QEMU ${shown}`);
}

function tool(check: string, fact: ToolFact, what: string, pkg: string): Finding {
  if (!fact.found)
    return finding(check, "fail", `${what} not found (${fact.error})`, `${APT} ${pkg}`);
  return finding(check, "ok", fact.output);
}

function iproute(f: HostFacts): Finding {
  const missing = [...(f.ip.found ? [] : ["ip"]), ...(f.tc.found ? [] : ["tc"])];
  if (missing.length > 0) {
    return finding(
      "iproute2",
      "fail",
      `${missing.join(" and ")} not found: no network namespaces or bandwidth caps`,
      `${APT} iproute2`,
    );
  }
  return finding("iproute2", "ok", f.tc.found ? f.tc.output : "");
}

function cgroups(f: HostFacts): Finding {
  const c = f.cgroup;
  const toV2 =
    "boot with cgroup v2: add systemd.unified_cgroup_hierarchy=1 to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub, reboot";
  if (c.version === "none") {
    return finding(
      "cgroups",
      "fail",
      "no cgroup file system at /sys/fs/cgroup",
      "mount -t cgroup2 none /sys/fs/cgroup (systemd does this at boot)",
    );
  }
  if (c.version === 1) {
    const missing = CGROUP_CONTROLLERS.filter((n) => !c.mounted.includes(n));
    if (missing.length > 0) {
      return finding(
        "cgroups",
        "fail",
        `cgroup v1 without the ${missing.join(", ")} hierarchy: sandboxes cannot be capped`,
        toV2,
      );
    }
    return finding(
      "cgroups",
      "warn",
      "cgroup v1: cpu, memory and pids caps hold, but there is no memory.peak: the report's memory peak comes from the guest agent alone",
      toV2,
    );
  }
  const missing = CGROUP_CONTROLLERS.filter((n) => !c.controllers.includes(n));
  if (missing.length > 0) {
    return finding(
      "cgroups",
      "fail",
      `cgroup v2 without the ${missing.join(", ")} controller (bound to a v1 hierarchy, or not in the kernel): sandboxes cannot be capped`,
      toV2,
    );
  }
  const off = CGROUP_CONTROLLERS.filter((n) => !c.subtreeControl.includes(n));
  if (off.length > 0) {
    return finding(
      "cgroups",
      "warn",
      `cgroup v2: ${off.join(", ")} not enabled in /sys/fs/cgroup/cgroup.subtree_control; the first sandbox enables them, unless something on the host forbids it`,
      `echo '${off.map((n) => `+${n}`).join(" ")}' > /sys/fs/cgroup/cgroup.subtree_control`,
    );
  }
  return finding("cgroups", "ok", "cgroup v2 with cpu, memory and pids enabled");
}

function disk(f: HostFacts): Finding {
  const d = f.disk;
  const where =
    d.measured === d.stateDir ? d.stateDir : `${d.measured} (${d.stateDir} does not exist yet)`;
  if (d.freeBytes === undefined) {
    return finding(
      "disk",
      "fail",
      `cannot read the free space of ${where}: ${d.error ?? "unknown error"}`,
      `mkdir -p ${d.stateDir}`,
    );
  }
  const more = `free space on ${d.measured}, or point stateDir in sandboxed.yml at a bigger file system`;
  if (d.freeBytes < DISK_FAIL_BYTES) {
    return finding(
      "disk",
      "fail",
      `${gib(d.freeBytes)} free in ${where}: a template alone takes about 1.2 GiB`,
      more,
    );
  }
  if (d.freeBytes < DISK_WARN_BYTES) {
    return finding(
      "disk",
      "warn",
      `${gib(d.freeBytes)} free in ${where}, under 20 GiB: each sandbox's disks grow up to its policy's resources.disk (20GiB by default)`,
      more,
    );
  }
  return finding("disk", "ok", `${gib(d.freeBytes)} free in ${where}`);
}

/** Every check, in the order a host is set up. */
export function assessHost(facts: HostFacts, options: AssessOptions = {}): Finding[] {
  return [
    node(facts),
    root(facts),
    kvm(facts, options),
    qemu(facts),
    tool("nftables", facts.nft, "nft", "nftables"),
    iproute(facts),
    cgroups(facts),
    disk(facts),
    tool("mmdebstrap", facts.mmdebstrap, "mmdebstrap (builds VM templates)", "mmdebstrap"),
    ...dockerFindings(facts.docker),
  ];
}

export function doctorExitCode(findings: readonly Finding[]): number {
  return findings.some((f) => f.level === "fail") ? 1 : 0;
}
