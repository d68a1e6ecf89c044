// Shared by the integration suites: policies from text, the test state folder, host probes.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOptions } from "../../runner/cli/policy-files.js";
import { loadPolicy } from "../../runner/policy/index.js";
import type { ResolvedPolicy } from "../../runner/policy/index.js";
import type { CgroupLayout } from "../../runner/sandbox/index.js";

/** Templates are cached here across runs; sandboxes get fresh ids, so nothing else is shared. */
export const TEST_STATE_DIR = process.env.SANDBOXED_TEST_STATE_DIR ?? "/var/lib/sandboxed-test";

export function policy(resources: Record<string, string | number>, extra = ""): ResolvedPolicy {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-policy-"));
  const file = path.join(dir, "policy.yml");
  const fields = Object.entries(resources)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  writeFileSync(
    file,
    `apiVersion: sandboxed/v1\nkind: Policy\nresources: { ${fields} }\nnetwork: { mode: none }\n${extra}`,
  );
  return loadPolicy(file, loadOptions()).policy;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("integration tests boot real VMs and need root (cgroups, namespaces, uids)");
  }
}

export function hostProcessCount(): number {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).length;
}

/**
 * Live QEMU processes. A zombie is not one: it holds no memory, disk or device, only a pid until
 * its parent reaps it, and an orphaned QEMU (the service was killed) is reaped by the machine's
 * PID 1 when that gets round to it, which on some hosts is not at once.
 */
export function qemuPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        if (!readFileSync(`/proc/${d}/comm`, "utf8").trim().startsWith("qemu-system")) return false;
        return /^State:\s+[^Z]/m.test(readFileSync(`/proc/${d}/status`, "utf8"));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The caps a sandbox's cgroup holds, as the host sees them, on cgroup v2 or v1 alike. */
export interface HostCgroupCaps {
  readonly memoryBytes: string;
  readonly pids: string;
  readonly cpuQuotaUs: string;
  readonly cpuPeriodUs: string;
  readonly procs: readonly number[];
}

export function hostCgroupCaps(layout: CgroupLayout): HostCgroupCaps {
  const read = (dir: string, file: string): string =>
    readFileSync(path.join(dir, file), "utf8").trim();
  const procs = (dir: string): number[] =>
    read(dir, "cgroup.procs").split("\n").filter(Boolean).map(Number);
  if (layout.version === 2) {
    const dir = layout.dirs[0]!;
    const [quota, period] = read(dir, "cpu.max").split(" ");
    return {
      memoryBytes: read(dir, "memory.max"),
      pids: read(dir, "pids.max"),
      cpuQuotaUs: quota!,
      cpuPeriodUs: period!,
      procs: procs(dir),
    };
  }
  const of = (controller: string): string =>
    layout.dirs.find((d) => d.includes(`/${controller}/`))!;
  return {
    memoryBytes: read(of("memory"), "memory.limit_in_bytes"),
    pids: read(of("pids"), "pids.max"),
    cpuQuotaUs: read(of("cpu"), "cpu.cfs_quota_us"),
    cpuPeriodUs: read(of("cpu"), "cpu.cfs_period_us"),
    procs: procs(of("cpu")),
  };
}

/**
 * The most memory the host has charged a sandbox's cgroup: its recorded peak where the kernel
 * keeps one (v1's max_usage_in_bytes, v2's memory.peak from Linux 5.19), else its usage now.
 */
export function hostCgroupMemoryBytes(layout: CgroupLayout): number {
  const read = (file: string): number => {
    try {
      return Number(readFileSync(file, "utf8").trim()) || 0;
    } catch {
      return 0;
    }
  };
  if (layout.version === 2) {
    const dir = layout.dirs[0]!;
    return Math.max(read(path.join(dir, "memory.peak")), read(path.join(dir, "memory.current")));
  }
  const memory = layout.dirs.find((d) => d.includes("/memory/"))!;
  return Math.max(
    read(path.join(memory, "memory.max_usage_in_bytes")),
    read(path.join(memory, "memory.usage_in_bytes")),
  );
}
