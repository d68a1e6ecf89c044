/**
 * Removing recorded resources: used by destroy, by start-up recovery and by `sandboxed gc`.
 * Newest first, because later resources live inside earlier ones (a process in a cgroup, files
 * in a directory). Every remover accepts "already gone".
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import Docker from "dockerode";
import { execa } from "execa";
import { removeCgroupDir } from "./cgroup.js";
import { listSandboxes, openJournal, removeJournal } from "./records.js";
import type { Journal, ResourceRecord } from "./records.js";
import type { SandboxEvent } from "./types.js";

async function killRecordedProcess(pidfile: string, match: string): Promise<void> {
  if (!existsSync(pidfile)) return;
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return; // gone
  }
  // A recycled pid belongs to someone else: only kill a process whose cmdline names us.
  if (!cmdline.includes(match)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    return;
  }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) {
    const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    if (state === "Z") break; // a zombie: its parent reaps it; it holds nothing now
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Force-remove a container and its anonymous volumes; one that does not exist is gone. */
async function removeContainer(socketPath: string, name: string): Promise<void> {
  try {
    await new Docker({ socketPath }).getContainer(name).remove({ force: true, v: true });
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) return;
    // 409: removal already in progress (a destroy racing gc); the daemon finishes it.
    if (status === 409 && /in progress/.test((error as Error).message)) return;
    throw new Error(`remove container ${name} via ${socketPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** `ip -n NAME` runs in a named namespace; a namespace already gone makes it a no-op. */
function netnsArgs(netns: string | undefined): string[] {
  return netns ? ["-n", netns] : [];
}

export async function removeResource(resource: ResourceRecord): Promise<void> {
  switch (resource.kind) {
    case "process":
      return killRecordedProcess(resource.pidfile, resource.match);
    case "cgroup":
      return removeCgroupDir(resource.path);
    case "file":
    case "dir":
      rmSync(resource.path, { recursive: true, force: true });
      return;
    case "uid":
      rmSync(resource.lock, { force: true });
      return;
    case "netns":
      await execa("ip", ["netns", "del", resource.name], { reject: false });
      return;
    case "link":
      await execa("ip", [...netnsArgs(resource.netns), "link", "del", resource.name], {
        reject: false,
      });
      return;
    case "nft-table":
      if (resource.netns) {
        await execa(
          "ip",
          [
            "netns",
            "exec",
            resource.netns,
            "nft",
            "delete",
            "table",
            resource.family,
            resource.name,
          ],
          {
            reject: false,
          },
        );
      } else {
        await execa("nft", ["delete", "table", resource.family, resource.name], { reject: false });
      }
      return;
    case "mount":
      // Not mounted (any more): nothing to do. Lazy, so a late reader cannot keep it busy.
      if ((await execa("mountpoint", ["-q", resource.path], { reject: false })).exitCode !== 0)
        return;
      await execa("umount", ["-l", resource.path]);
      return;
    case "container":
      return removeContainer(resource.socket, resource.name);
    case "lock":
      if (
        existsSync(resource.path) &&
        readFileSync(resource.path, "utf8").trim() === resource.owner
      ) {
        rmSync(resource.path, { force: true });
      }
      return;
    default: {
      const never: never = resource;
      throw new Error(`unknown resource kind in record: ${JSON.stringify(never)}`);
    }
  }
}

/** Remove everything a journal records, newest first; collect failures rather than stop. */
export async function removeAll(journal: Journal): Promise<string[]> {
  const failures: string[] = [];
  for (const resource of journal.resources().reverse()) {
    try {
      await removeResource(resource);
    } catch (error) {
      failures.push(`${resource.kind}: ${(error as Error).message}`);
    }
  }
  if (failures.length === 0) removeJournal(journal);
  return failures;
}

/**
 * A sandbox's destroy: the `destroy` phase, its listeners closed first (they hold addresses in the
 * namespace the journal is about to remove), then everything recorded; failures are thrown.
 */
export async function destroyRecorded(
  journal: Journal,
  emit: (event: SandboxEvent) => void,
  closeFirst: () => Promise<void> | undefined,
): Promise<void> {
  emit({ type: "phase", phase: "destroy" });
  await closeFirst();
  const failures = await removeAll(journal);
  if (failures.length > 0)
    throw new Error(`sandbox ${journal.id}: cleanup failed: ${failures.join("; ")}`);
}

export interface GcReport {
  readonly removed: readonly string[];
  readonly skippedLive: readonly string[];
  readonly failures: readonly { id: string; errors: readonly string[] }[];
}

/** Remove every sandbox whose owner is dead (or all of them with `all`). */
export async function collectGarbage(
  stateDir: string,
  options: { all?: boolean } = {},
): Promise<GcReport> {
  const removed: string[] = [];
  const skippedLive: string[] = [];
  const failures: { id: string; errors: string[] }[] = [];
  for (const { id, ownerAlive } of listSandboxes(stateDir)) {
    if (ownerAlive && !options.all) {
      skippedLive.push(id);
      continue;
    }
    const errors = await removeAll(openJournal(stateDir, id));
    if (errors.length === 0) removed.push(id);
    else failures.push({ id, errors });
  }
  return { removed, skippedLive, failures };
}
