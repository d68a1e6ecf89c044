/**
 * Job records on disk, one JSON file per job id under `<stateDir>/serve/jobs/`, so a restart
 * resumes without losing or repeating a job (issue 6). Each write goes to a temporary file that
 * is renamed over the old one: a crash leaves the old record or the new, never half of one.
 */
import {
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { JobRecord } from "./types.js";

export interface JobStore {
  get(id: number): JobRecord | undefined;
  /** Write the record (replacing any older one) and return it. */
  put(record: JobRecord): JobRecord;
  update(id: number, change: Partial<JobRecord>): JobRecord;
  all(): JobRecord[];
  /** Forget finished records older than this (their logs stay in the log store). */
  prune(olderThan: number): number;
}

export function jobsDir(stateDir: string): string {
  return path.join(stateDir, "serve", "jobs");
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export function openJobStore(stateDir: string): JobStore {
  const dir = jobsDir(stateDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const records = new Map<number, JobRecord>();
  for (const name of readdirSync(dir)) {
    if (!/^\d+\.json$/.test(name)) {
      if (name.endsWith(".tmp")) rmSync(path.join(dir, name), { force: true });
      continue;
    }
    try {
      const record = JSON.parse(readFileSync(path.join(dir, name), "utf8")) as JobRecord;
      records.set(record.job.id, record);
    } catch {
      // A record that does not parse was never renamed into place whole; nothing to resume.
      rmSync(path.join(dir, name), { force: true });
    }
  }
  const fileOf = (id: number): string => path.join(dir, `${id}.json`);
  const store: JobStore = {
    get: (id) => records.get(id),
    put(record) {
      writeAtomic(fileOf(record.job.id), `${JSON.stringify(record)}\n`);
      records.set(record.job.id, record);
      return record;
    },
    update(id, change) {
      const old = records.get(id);
      if (!old) throw new Error(`no job record ${id}`);
      return store.put({ ...old, ...change });
    },
    all: () => [...records.values()],
    prune(olderThan) {
      let n = 0;
      for (const record of records.values()) {
        if (record.state === "done" && (record.finishedAt ?? 0) < olderThan) {
          if (existsSync(fileOf(record.job.id))) rmSync(fileOf(record.job.id), { force: true });
          records.delete(record.job.id);
          n++;
        }
      }
      return n;
    },
  };
  return store;
}
