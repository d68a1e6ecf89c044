/**
 * Per-job logs on disk (issue 6, "Logs"): `<dir>/<jobId>/` holds meta.json, console.log,
 * runner.log, egress.jsonl, report.json and outcome.json. Folders are 0700 and files 0600: a job's
 * console can hold a private repository's output. JSON files are replaced atomically (write a
 * temporary file, then rename), so a crash never leaves half an outcome.json behind.
 *
 * The job id names a folder, so it is checked before any path is built: a GitHub job id is
 * digits; anything with a slash, a leading dot or odd characters is refused (SBX_LOGS_JOB_ID).
 */
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { SandboxedError } from "../errors/index.js";
import { scrubSecrets } from "./logger.js";
import type {
  JobLog,
  JobLogJsonFile,
  JobLogStore,
  JobLogSummary,
  JobLogTextFile,
  JobMeta,
  JobOutcomeFile,
  StoredJobMeta,
} from "./types.js";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface JobLogStoreOptions {
  /** The log folder (`logs.dir` of sandboxed.yml). */
  readonly dir: string;
  /** Finished jobs older than this are removed by prune(). */
  readonly retentionMs: number;
  readonly now?: () => number;
}

/** The job id as a folder name, or SBX_LOGS_JOB_ID. */
export function checkJobId(jobId: string | number): string {
  const id = String(jobId);
  if (!JOB_ID.test(id)) {
    const shown = JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id);
    throw new SandboxedError(
      "SBX_LOGS_JOB_ID",
      `${shown} is not a job id: letters, digits, '.', '_' and '-' only, not starting with '.' (it names a folder)`,
      { hint: "pass the job's numeric id; `sandboxed logs` lists them" },
    );
  }
  return id;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function isoTime(value: string | number | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "number" ? iso(value) : value;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function writeJsonFile(file: string, value: unknown): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(scrubSecrets(value), null, 2)}\n`, { mode: FILE_MODE });
  // A temporary file left by a crash keeps its old mode through writeFileSync: set it again.
  chmodSync(tmp, FILE_MODE);
  renameSync(tmp, file);
}

function normalizeMeta(meta: Partial<JobMeta>): Partial<StoredJobMeta> {
  const out: Record<string, unknown> = { ...meta };
  for (const key of ["queuedAt", "startedAt", "finishedAt"] as const) {
    const t = isoTime(meta[key]);
    if (t === undefined) delete out[key];
    else out[key] = t;
  }
  return out as Partial<StoredJobMeta>;
}

function dirBytes(dir: string): { bytes: number; newestMs: number } {
  let bytes = 0;
  let newestMs = 0;
  for (const name of readdirSync(dir)) {
    try {
      const s = statSync(path.join(dir, name));
      bytes += s.size;
      newestMs = Math.max(newestMs, s.mtimeMs);
    } catch {
      // removed meanwhile
    }
  }
  return { bytes, newestMs };
}

function parseEgress(text: string): Record<string, unknown>[] {
  return text.split("\n").flatMap((line) => {
    if (line.trim() === "") return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return []; // a torn last line from a crash mid-write
    }
  });
}

export function createJobLogStore(options: JobLogStoreOptions): JobLogStore {
  const root = path.resolve(options.dir);
  const now = options.now ?? Date.now;
  /** Jobs opened by this process and not finished: prune never removes them. */
  const live = new Set<string>();

  const jobDir = (id: string): string => path.join(root, id);
  const metaOf = (id: string): StoredJobMeta | undefined =>
    readJson<StoredJobMeta>(path.join(jobDir(id), "meta.json"));

  function writeMeta(id: string, patch: Partial<JobMeta>): void {
    const current = metaOf(id);
    const t = iso(now());
    const stored = {
      ...current,
      ...normalizeMeta(patch),
      jobId: id,
      openedAt: current?.openedAt ?? t,
      updatedAt: t,
    };
    writeJsonFile(path.join(jobDir(id), "meta.json"), stored);
  }

  function jobLog(id: string): JobLog {
    const dir = jobDir(id);
    const append = (file: JobLogTextFile, text: string): void => {
      appendFileSync(path.join(dir, file), text, { mode: FILE_MODE });
    };
    const writeJson = (file: JobLogJsonFile, value: unknown): void => {
      if (file === "meta.json") {
        writeMeta(id, value as Partial<JobMeta>);
        return;
      }
      if (file === "outcome.json") {
        const v = value as Partial<JobOutcomeFile>;
        writeJsonFile(path.join(dir, file), { ...v, finishedAt: v.finishedAt ?? iso(now()) });
        live.delete(id);
        return;
      }
      writeJsonFile(path.join(dir, file), value);
    };
    return {
      jobId: id,
      dir,
      append,
      writeJson,
      appendConsole: (text) => append("console.log", text),
      appendRunner: (text) => append("runner.log", text),
      appendEgress: (decision) => append("egress.jsonl", `${JSON.stringify(decision)}\n`),
      writeReport: (report) => writeJson("report.json", report),
      writeOutcome: (outcome) => writeJson("outcome.json", outcome),
      updateMeta: (patch) => writeMeta(id, patch),
    };
  }

  function ids(): string[] {
    if (!existsSync(root)) return [];
    return readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && JOB_ID.test(e.name))
      .map((e) => e.name);
  }

  function summary(id: string): JobLogSummary & { sortKey: string } {
    const meta = metaOf(id);
    const outcome = readJson<JobOutcomeFile>(path.join(jobDir(id), "outcome.json"));
    const { bytes, newestMs } = dirBytes(jobDir(id));
    return {
      jobId: id,
      ...(meta?.repo ? { repo: meta.repo } : {}),
      ...(meta?.jobName ? { jobName: meta.jobName } : {}),
      ...(meta?.runId !== undefined ? { runId: meta.runId } : {}),
      ...(meta?.openedAt ? { openedAt: meta.openedAt } : {}),
      ...(outcome?.outcome ? { outcome: outcome.outcome } : {}),
      ...(outcome?.title ? { title: outcome.title } : {}),
      bytes,
      sortKey: meta?.openedAt ?? iso(newestMs),
    };
  }

  return {
    dir: root,

    open(jobId, meta) {
      const id = checkJobId(jobId);
      mkdirSync(root, { recursive: true, mode: DIR_MODE });
      try {
        mkdirSync(jobDir(id), { mode: DIR_MODE });
      } catch (error) {
        // A restart reopens the job's folder: its console so far is kept.
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      chmodSync(jobDir(id), DIR_MODE);
      writeMeta(id, meta);
      live.add(id);
      return jobLog(id);
    },

    list() {
      return ids()
        .map(summary)
        .sort((a, b) =>
          a.sortKey === b.sortKey ? b.jobId.localeCompare(a.jobId) : a.sortKey < b.sortKey ? 1 : -1,
        )
        .map(({ sortKey: _sortKey, ...row }) => row);
    },

    read(jobId) {
      const id = checkJobId(jobId);
      const dir = jobDir(id);
      if (!existsSync(dir)) {
        const recent = ids()
          .map(summary)
          .sort((a, b) => (a.sortKey < b.sortKey ? 1 : -1))
          .slice(0, 5)
          .map((s) => s.jobId);
        throw new SandboxedError("SBX_LOGS_NOT_FOUND", `no logs for job ${id} in ${root}`, {
          hint:
            recent.length > 0
              ? `recent jobs: ${recent.join(", ")} (sandboxed logs lists all)`
              : `no job has run with this log folder yet; check logs.dir in sandboxed.yml`,
        });
      }
      const consoleText = readText(path.join(dir, "console.log"));
      const runner = readText(path.join(dir, "runner.log"));
      const egress = readText(path.join(dir, "egress.jsonl"));
      const report = readJson<unknown>(path.join(dir, "report.json"));
      const outcome = readJson<JobOutcomeFile>(path.join(dir, "outcome.json"));
      return {
        jobId: id,
        meta: metaOf(id),
        files: {
          ...(consoleText !== undefined ? { console: consoleText } : {}),
          ...(runner !== undefined ? { runner } : {}),
          ...(egress !== undefined ? { egress: parseEgress(egress) } : {}),
          ...(report !== undefined ? { report } : {}),
          ...(outcome !== undefined ? { outcome } : {}),
        },
      };
    },

    prune() {
      const cutoff = now() - options.retentionMs;
      const removed: string[] = [];
      for (const id of ids()) {
        if (live.has(id)) continue;
        const dir = jobDir(id);
        const outcome = readJson<JobOutcomeFile>(path.join(dir, "outcome.json"));
        const finished = isoTime(outcome?.finishedAt);
        // A job without an outcome (a crash no restart recovered) counts from its last write.
        const last = finished
          ? Date.parse(finished)
          : Math.max(Date.parse(metaOf(id)?.updatedAt ?? "") || 0, dirBytes(dir).newestMs);
        if (Number.isFinite(last) && last < cutoff) {
          rmSync(dir, { recursive: true, force: true });
          removed.push(id);
        }
      }
      return removed.sort();
    },
  };
}
