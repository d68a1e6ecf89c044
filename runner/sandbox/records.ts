/**
 * Crash safety by records (DESIGN decision 6). Every host resource a sandbox creates is appended
 * to `<state>/sandboxes/<id>/resources.jsonl` *before* it is created, and synced to disk, so a
 * runner killed at any instant leaves a record of everything that might exist. Destroy, start-up
 * recovery and `sandboxed gc` all remove resources from the record, newest first, with the same
 * removers; a remover treats "already gone" as success.
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";

export type ResourceRecord =
  | { readonly kind: "dir"; readonly path: string }
  | { readonly kind: "file"; readonly path: string }
  /** A process we started; `pidfile` holds its pid, `match` must appear in its cmdline. */
  | { readonly kind: "process"; readonly pidfile: string; readonly match: string }
  | { readonly kind: "cgroup"; readonly path: string }
  | { readonly kind: "uid"; readonly uid: number; readonly lock: string }
  | { readonly kind: "netns"; readonly name: string }
  /** `netns` absent: the runner's own namespace. */
  | { readonly kind: "link"; readonly name: string; readonly netns?: string }
  | {
      readonly kind: "nft-table";
      readonly family: "inet";
      readonly name: string;
      readonly netns?: string;
    }
  /** A file system mounted on the host (a container's loop-mounted workspace). */
  | { readonly kind: "mount"; readonly path: string }
  /** A container, by name, on the Docker daemon behind `socket` (removed with its volumes). */
  | { readonly kind: "container"; readonly socket: string; readonly name: string }
  /** A net slot or other lock file; removed only if it still holds this sandbox's id. */
  | { readonly kind: "lock"; readonly path: string; readonly owner: string };

export interface Owner {
  readonly pid: number;
  /** /proc/<pid>/stat field 22: tells a live owner from a recycled pid. */
  readonly startTime: string;
  readonly createdAt: string;
}

export function sandboxDir(stateDir: string, id: string): string {
  return path.join(stateDir, "sandboxes", id);
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which may itself contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

export interface Journal {
  readonly id: string;
  readonly dir: string;
  /** Record, sync, then the caller creates the resource. */
  record(resource: ResourceRecord): void;
  resources(): ResourceRecord[];
}

/** Open (create) the journal of a new sandbox, owned by this process. */
export function createJournal(
  stateDir: string,
  id: string,
  now: () => Date = () => new Date(),
): Journal {
  const dir = sandboxDir(stateDir, id);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const owner: Owner = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? "",
    createdAt: now().toISOString(),
  };
  writeSynced(path.join(dir, "owner.json"), `${JSON.stringify(owner)}\n`, "w");
  return openJournal(stateDir, id);
}

export function openJournal(stateDir: string, id: string): Journal {
  const dir = sandboxDir(stateDir, id);
  const file = path.join(dir, "resources.jsonl");
  return {
    id,
    dir,
    record(resource) {
      writeSynced(file, `${JSON.stringify(resource)}\n`, "a");
    },
    resources() {
      if (!existsSync(file)) return [];
      return readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as ResourceRecord];
          } catch {
            return []; // a torn last line from a crash mid-write: its resource was never created
          }
        });
    },
  };
}

function writeSynced(file: string, text: string, flags: "a" | "w"): void {
  const fd = openSync(file, flags, 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Ids of every sandbox with a record, and whether its owner process is still alive. */
export function listSandboxes(stateDir: string): { id: string; ownerAlive: boolean }[] {
  const root = path.join(stateDir, "sandboxes");
  if (!existsSync(root)) return [];
  return readdirSync(root).map((id) => {
    let alive: boolean;
    try {
      const owner = JSON.parse(readFileSync(path.join(root, id, "owner.json"), "utf8")) as Owner;
      alive = processStartTime(owner.pid) === owner.startTime && owner.startTime !== "";
    } catch {
      alive = false;
    }
    return { id, ownerAlive: alive };
  });
}

export function removeJournal(journal: Journal): void {
  rmSync(journal.dir, { recursive: true, force: true });
}
