/**
 * The QEMU (or container) process's own cgroup: CPU quota, memory (guest RAM plus bounded
 * overhead, no swap) and pids. cgroup v2 when the host has it, v1 otherwise (this machine's
 * hosts still run the v1 hierarchy). Paths are recorded before mkdir (records.ts).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { SandboxedError } from "../errors/index.js";

/**
 * mkdir of the sandboxed/ parent and the leaf, one level at a time. Not `recursive: true`: on a
 * sysfs without the cgroup mounts (inside `ip netns exec`, say) Node's recursive mkdir spins
 * forever instead of failing.
 */
function mkdirStep(dir: string): void {
  const root = path.dirname(path.dirname(dir));
  if (!existsSync(root) || !existsSync(path.join(root, "cgroup.procs"))) {
    throw new SandboxedError("SBX_SANDBOX_CGROUP", `no cgroup hierarchy at ${root}`, {
      hint: "mount the cgroup file systems (systemd does); inside `ip netns exec` use `nsenter --net=` instead",
    });
  }
  for (const d of [path.dirname(dir), dir]) {
    try {
      mkdirSync(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
}

export interface CgroupLimits {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly pids: number;
}

export interface CgroupStats {
  readonly memoryPeakBytes?: number;
  readonly oomKills: number;
  readonly pidsRefused: number;
  readonly cpuUsec?: number;
}

export interface CgroupLayout {
  readonly version: 1 | 2;
  /** Every directory the cgroup consists of (one on v2, one per controller on v1). */
  readonly dirs: readonly string[];
}

const CPU_PERIOD_US = 100_000;
const V1_CONTROLLERS = ["cpu", "memory", "pids"] as const;

export function cgroupLayout(root: string, id: string): CgroupLayout {
  if (existsSync(path.join(root, "cgroup.controllers"))) {
    return { version: 2, dirs: [path.join(root, "sandboxed", id)] };
  }
  return { version: 1, dirs: V1_CONTROLLERS.map((c) => path.join(root, c, "sandboxed", id)) };
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

function readOr(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export function createCgroup(layout: CgroupLayout, limits: CgroupLimits): void {
  if (layout.version === 2) {
    const dir = layout.dirs[0]!;
    const parent = path.dirname(dir);
    // Controllers must be enabled on every ancestor's subtree_control to reach the leaf.
    write(path.join(path.dirname(parent), "cgroup.subtree_control"), "+cpu +memory +pids");
    mkdirStep(dir);
    write(path.join(parent, "cgroup.subtree_control"), "+cpu +memory +pids");
    write(path.join(dir, "cpu.max"), `${Math.round(limits.cpus * CPU_PERIOD_US)} ${CPU_PERIOD_US}`);
    write(path.join(dir, "memory.max"), String(limits.memoryBytes));
    write(path.join(dir, "memory.swap.max"), "0");
    write(path.join(dir, "memory.oom.group"), "1");
    write(path.join(dir, "pids.max"), String(limits.pids));
    return;
  }
  const [cpu, memory, pids] = layout.dirs as [string, string, string];
  for (const dir of layout.dirs) mkdirStep(dir);
  write(path.join(cpu, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
  write(path.join(cpu, "cpu.cfs_quota_us"), String(Math.round(limits.cpus * CPU_PERIOD_US)));
  write(path.join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
  // memsw may be absent when swap accounting is off; then swap is not ours to limit here.
  if (existsSync(path.join(memory, "memory.memsw.limit_in_bytes"))) {
    write(path.join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
  }
  write(path.join(pids, "pids.max"), String(limits.pids));
}

export function addProcess(layout: CgroupLayout, pid: number): void {
  for (const dir of layout.dirs) write(path.join(dir, "cgroup.procs"), String(pid));
}

function field(text: string | undefined, name: string): number | undefined {
  const m = text ? new RegExp(`^${name} (\\d+)$`, "m").exec(text) : null;
  return m ? Number(m[1]) : undefined;
}

export function cgroupStats(layout: CgroupLayout): CgroupStats {
  if (layout.version === 2) {
    const dir = layout.dirs[0]!;
    const peak = readOr(path.join(dir, "memory.peak"));
    return {
      ...(peak ? { memoryPeakBytes: Number(peak) } : {}),
      oomKills: field(readOr(path.join(dir, "memory.events")), "oom_kill") ?? 0,
      pidsRefused: field(readOr(path.join(dir, "pids.events")), "max") ?? 0,
      ...(() => {
        const usec = field(readOr(path.join(dir, "cpu.stat")), "usage_usec");
        return usec === undefined ? {} : { cpuUsec: usec };
      })(),
    };
  }
  const [, memory, pids] = layout.dirs as [string, string, string];
  const peak = readOr(path.join(memory, "memory.max_usage_in_bytes"));
  return {
    ...(peak ? { memoryPeakBytes: Number(peak) } : {}),
    oomKills: field(readOr(path.join(memory, "memory.oom_control")), "oom_kill") ?? 0,
    pidsRefused: field(readOr(path.join(pids, "pids.events")), "max") ?? 0,
  };
}

/** Pids still in the cgroup (any controller directory). */
export function cgroupPids(layout: CgroupLayout): number[] {
  const out = new Set<number>();
  for (const dir of layout.dirs) {
    for (const line of (readOr(path.join(dir, "cgroup.procs")) ?? "").split("\n")) {
      if (line.trim() !== "") out.add(Number(line));
    }
  }
  return [...out];
}

/** Kill what is left, then remove the directories. Missing directories are fine. */
export async function removeCgroupDir(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (let attempt = 0; attempt < 50; attempt++) {
    const procs = (readOr(path.join(dir, "cgroup.procs")) ?? "")
      .split("\n")
      .filter((l) => l.trim() !== "");
    for (const pid of procs) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") throw error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cgroup ${dir} still busy after killing its processes`);
}
