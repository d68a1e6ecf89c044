/**
 * The agent's watch over the job's caps (agent.ts): process count, workspace fill and, in a VM,
 * the job cgroup's OOM and fork refusals. A breach is sent to the host and the job killed.
 */
import { readdirSync, readFileSync, statfsSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AgentMessage, JobConfig } from "./protocol.js";

export const SANDBOX_MNT = "/sandbox";
export const JOB_CGROUP = "/sys/fs/cgroup/job";
const FULL_BYTES = 2 ** 20;
export const STDIO = process.argv.includes("--stdio");

export function readNumber(file: string, field?: string): number {
  try {
    const text = readFileSync(file, "utf8");
    if (!field) return Number(text.trim()) || 0;
    const m = new RegExp(`^${field} (\\d+)$`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export interface Watch {
  breach: AgentMessage | undefined;
  peakPids: number;
  peakDisk: number;
}

function diskUsed(): { used: number; full: boolean } {
  const s = statfsSync(SANDBOX_MNT);
  // A container's root is read-only: its statfs is the host's and says nothing of the job.
  const root = STDIO ? s : statfsSync("/");
  return {
    used: (s.blocks - s.bfree) * s.bsize,
    // Full: less than 1 MiB left for the job on the workspace or the root overlay. ENOSPC comes
    // a few blocks early (ext4 keeps clusters back for delayed allocation), so never exactly 0.
    full: s.bavail * s.bsize < FULL_BYTES || root.bavail * root.bsize < FULL_BYTES,
  };
}

/** Tasks (threads) of every process but this agent and the container's init. */
function jobTasks(): number {
  let n = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || name === "1" || Number(name) === process.pid) continue;
    try {
      n += readdirSync(`/proc/${name}/task`).length;
    } catch {
      // exited meanwhile
    }
  }
  return n;
}

export function killJob(): void {
  if (STDIO) {
    // Every process this agent may signal but itself and init: the job, and nothing else runs here.
    try {
      process.kill(-1, "SIGKILL");
    } catch {
      // nothing left
    }
    return;
  }
  try {
    writeFileSync(path.join(JOB_CGROUP, "cgroup.kill"), "1");
  } catch {
    // older kernels: kill each process
    for (const pid of readFileSync(path.join(JOB_CGROUP, "cgroup.procs"), "utf8").split("\n")) {
      if (pid) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }
}

export function check(
  config: JobConfig,
  watch: Watch,
  kill: () => void,
  send: (message: AgentMessage) => void,
): void {
  if (watch.breach) return;
  const pids = STDIO ? jobTasks() : readNumber(path.join(JOB_CGROUP, "pids.current"));
  watch.peakPids = Math.max(watch.peakPids, pids);
  const disk = diskUsed();
  watch.peakDisk = Math.max(watch.peakDisk, disk.used);
  if (readNumber(path.join(JOB_CGROUP, "memory.events"), "oom_kill") > 0) {
    watch.breach = {
      t: "breach",
      kind: "memory",
      detail: "the job's processes were killed for memory",
    };
  } else if (
    STDIO ? pids >= config.limits.pids : readNumber(path.join(JOB_CGROUP, "pids.events"), "max") > 0
  ) {
    watch.breach = {
      t: "breach",
      kind: "pids",
      detail: `fork refused at ${config.limits.pids} processes`,
    };
  } else if (disk.full) {
    watch.breach = {
      t: "breach",
      kind: "disk",
      detail: "no space left on the workspace or root disk",
    };
  }
  if (watch.breach) {
    send(watch.breach);
    kill();
  }
}
