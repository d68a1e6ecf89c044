/**
 * The emulator's world: repositories, workflow runs and their jobs, self-hosted runners, check
 * runs and commit statuses, and the job life GitHub gives them:
 *
 * queued ──(a runner whose labels ⊇ the job's acquires it, oldest job first)──▶ in_progress
 *        ──(the runner reports)──▶ completed/<conclusion>; the JIT (ephemeral) runner is removed.
 * queued ──cancelJob──▶ completed/cancelled. A busy runner deleted ──▶ its job completed/failure.
 *
 * Every transition calls `onJob(job, action)` (the webhook sender listens) and wakes `watch`ers.
 */
import { randomBytes } from "node:crypto";
import type { JobStatus, QueueRunOptions, RepoOptions, RunnerTarget } from "./types.js";

export interface RepoRecord {
  readonly id: number;
  readonly owner: string;
  readonly name: string;
  readonly fullName: string;
  readonly ownerId: number;
  readonly ownerType: "Organization" | "User";
  defaultBranch: string;
  files: Map<string, string>;
  readonly createdAt: number;
}

export interface RunRecord {
  readonly id: number;
  readonly repo: RepoRecord;
  readonly runNumber: number;
  readonly headSha: string;
  readonly headBranch: string;
  readonly workflowName: string;
  readonly createdAt: number;
  updatedAt: number;
  readonly jobIds: number[];
}

export interface JobRecord {
  readonly id: number;
  readonly run: RunRecord;
  readonly name: string;
  readonly labels: readonly string[];
  readonly script: string;
  status: JobStatus;
  conclusion: string | null;
  runnerId: number | null;
  runnerName: string | null;
  runnerGroupId: number | null;
  readonly createdAt: number;
  startedAt: number | null;
  completedAt: number | null;
  log: string;
}

export interface RunnerRecord {
  readonly id: number;
  readonly name: string;
  readonly labels: readonly string[];
  readonly target: RunnerTarget;
  readonly groupId: number;
  /** The credential in its JIT blob; the runner proves itself with it. */
  readonly token: string;
  readonly workFolder: string;
  status: "online" | "offline";
  jobId: number | null;
  readonly createdAt: number;
}

export interface CheckRunRecord {
  readonly id: number;
  readonly repo: RepoRecord;
  readonly headSha: string;
  name: string;
  status: string;
  conclusion: string | null;
  detailsUrl: string | null;
  externalId: string | null;
  startedAt: number;
  completedAt: number | null;
  output: { title?: string; summary?: string; text?: string };
  annotations: Record<string, unknown>[];
}

export interface StatusRecord {
  readonly id: number;
  readonly repo: RepoRecord;
  readonly sha: string;
  readonly state: string;
  readonly context: string;
  readonly description: string | null;
  readonly targetUrl: string | null;
  readonly createdAt: number;
}

export type JobAction = "queued" | "in_progress" | "completed";
/** Why a runner's credential stopped working: 410 replies carry it to the runner. */
export type RetiredReason = "deleted" | "finished" | "cancelled";
export type Acquired =
  | { kind: "job"; job: JobRecord; runner: RunnerRecord }
  | { kind: "none" }
  | { kind: "unauthorized" }
  | { kind: "gone"; reason: RetiredReason };

export interface State {
  readonly repos: Map<string, RepoRecord>;
  readonly runs: Map<number, RunRecord>;
  readonly jobs: Map<number, JobRecord>;
  readonly runners: Map<number, RunnerRecord>;
  readonly checkRuns: CheckRunRecord[];
  readonly statuses: StatusRecord[];
  now(): number;
  nextId(): number;
  addRepo(fullName: string, options: RepoOptions): RepoRecord;
  findRepo(owner: string, name: string): RepoRecord | undefined;
  orgRepos(org: string): RepoRecord[];
  queueRun(repo: string, options: QueueRunOptions): RunRecord;
  runStatus(run: RunRecord): { status: JobStatus; conclusion: string | null };
  addRunner(
    target: RunnerTarget,
    spec: { name: string; labels: readonly string[]; groupId: number; workFolder: string },
  ): RunnerRecord | "exists";
  runnersOf(target: RunnerTarget): RunnerRecord[];
  deleteRunner(id: number): "deleted" | "busy";
  acquire(runnerId: number, token: string): Acquired;
  /** The runner holding `jobId` with this credential, or why not. */
  holder(token: string, jobId: number): Acquired;
  complete(job: JobRecord, conclusion: string): void;
  cancelJob(id: number): void;
  maxRunning(): number;
  /** Calls `listener` after every change; returns the unsubscribe function. */
  watch(listener: () => void): () => void;
  changed(): void;
}

export function createState(options: {
  now: () => number;
  busyRunnerDelete: "fail-job" | "refuse";
  onJob: (job: JobRecord, action: JobAction) => void;
}): State {
  const { now, onJob } = options;
  const repos = new Map<string, RepoRecord>();
  const runs = new Map<number, RunRecord>();
  const jobs = new Map<number, JobRecord>();
  const runners = new Map<number, RunnerRecord>();
  const retired = new Map<string, RetiredReason>();
  const listeners = new Set<() => void>();
  let lastId = 1000;
  let running = 0;
  let maxRunning = 0;

  const key = (fullName: string) => fullName.toLowerCase();
  const lower = (labels: readonly string[]) => labels.map((l) => l.toLowerCase());
  const inScope = (runner: RunnerRecord, repo: RepoRecord) =>
    "repo" in runner.target
      ? key(runner.target.repo) === key(repo.fullName)
      : runner.target.org.toLowerCase() === repo.owner.toLowerCase();
  const sameTarget = (a: RunnerTarget, b: RunnerTarget) =>
    "repo" in a
      ? "repo" in b && key(a.repo) === key(b.repo)
      : "org" in b && key(a.org) === key(b.org);

  const state: State = {
    repos,
    runs,
    jobs,
    runners,
    checkRuns: [],
    statuses: [],
    now,
    nextId: () => ++lastId,

    addRepo: (fullName, repoOptions) => {
      const [owner, name, extra] = fullName.split("/");
      if (!owner || !name || extra !== undefined) throw new Error(`repo "${fullName}": owner/name`);
      const existing = repos.get(key(fullName));
      const files = new Map(Object.entries(repoOptions.files ?? {}));
      if (existing !== undefined) {
        existing.files = files;
        existing.defaultBranch = repoOptions.defaultBranch ?? existing.defaultBranch;
        state.changed();
        return existing;
      }
      const sibling = [...repos.values()].find((r) => key(r.owner) === key(owner));
      const repo: RepoRecord = {
        id: state.nextId(),
        owner,
        name,
        fullName,
        ownerId: sibling?.ownerId ?? state.nextId(),
        ownerType: repoOptions.ownerType ?? sibling?.ownerType ?? "Organization",
        defaultBranch: repoOptions.defaultBranch ?? "main",
        files,
        createdAt: now(),
      };
      repos.set(key(fullName), repo);
      state.changed();
      return repo;
    },

    findRepo: (owner, name) => repos.get(key(`${owner}/${name}`)),
    orgRepos: (org) => [...repos.values()].filter((r) => key(r.owner) === key(org)),

    queueRun: (fullName, runOptions) => {
      const repo = repos.get(key(fullName));
      if (repo === undefined)
        throw new Error(`queueRun: unknown repo "${fullName}" (addRepo first)`);
      if (runOptions.jobs.length === 0) throw new Error("queueRun: a run needs at least one job");
      const run: RunRecord = {
        id: state.nextId(),
        repo,
        runNumber: [...runs.values()].filter((r) => r.repo === repo).length + 1,
        headSha: runOptions.headSha ?? randomBytes(20).toString("hex"),
        headBranch: repo.defaultBranch,
        workflowName: runOptions.workflowName ?? "CI",
        createdAt: now(),
        updatedAt: now(),
        jobIds: [],
      };
      runs.set(run.id, run);
      const created = runOptions.jobs.map((spec) => {
        const job: JobRecord = {
          id: state.nextId(),
          run,
          name: spec.name,
          labels: [...spec.labels],
          script: spec.script,
          status: "queued",
          conclusion: null,
          runnerId: null,
          runnerName: null,
          runnerGroupId: null,
          createdAt: now(),
          startedAt: null,
          completedAt: null,
          log: "",
        };
        jobs.set(job.id, job);
        run.jobIds.push(job.id);
        return job;
      });
      for (const job of created) onJob(job, "queued");
      state.changed();
      return run;
    },

    runStatus: (run) => {
      const mine = run.jobIds.map((id) => jobs.get(id)!);
      if (mine.every((j) => j.status === "queued")) return { status: "queued", conclusion: null };
      if (mine.some((j) => j.status !== "completed"))
        return { status: "in_progress", conclusion: null };
      const conclusions = mine.map((j) => j.conclusion);
      const conclusion = conclusions.includes("failure")
        ? "failure"
        : conclusions.includes("cancelled")
          ? "cancelled"
          : "success";
      return { status: "completed", conclusion };
    },

    addRunner: (target, spec) => {
      const taken = [...runners.values()].some(
        (r) => sameTarget(r.target, target) && r.name.toLowerCase() === spec.name.toLowerCase(),
      );
      if (taken) return "exists";
      const runner: RunnerRecord = {
        id: state.nextId(),
        name: spec.name,
        labels: [...spec.labels],
        target,
        groupId: spec.groupId,
        token: randomBytes(32).toString("base64url"),
        workFolder: spec.workFolder,
        status: "offline",
        jobId: null,
        createdAt: now(),
      };
      runners.set(runner.id, runner);
      state.changed();
      return runner;
    },

    runnersOf: (target) => [...runners.values()].filter((r) => sameTarget(r.target, target)),

    deleteRunner: (id) => {
      const runner = runners.get(id)!;
      const job = runner.jobId === null ? undefined : jobs.get(runner.jobId);
      if (job !== undefined && job.status === "in_progress") {
        if (options.busyRunnerDelete === "refuse") return "busy";
        finish(job, "failure");
      }
      retire(runner, "deleted");
      state.changed();
      return "deleted";
    },

    acquire: (runnerId, token) => {
      const runner = runners.get(runnerId);
      if (runner === undefined || runner.token !== token) {
        const reason = retired.get(token);
        return reason === undefined ? { kind: "unauthorized" } : { kind: "gone", reason };
      }
      const first = runner.status === "offline";
      runner.status = "online";
      if (runner.jobId !== null) return { kind: "job", job: jobs.get(runner.jobId)!, runner };
      const labels = new Set(lower(runner.labels));
      const job = [...jobs.values()].find(
        (j) =>
          j.status === "queued" &&
          inScope(runner, j.run.repo) &&
          lower(j.labels).every((l) => labels.has(l)),
      );
      if (job === undefined) {
        if (first) state.changed();
        return { kind: "none" };
      }
      job.status = "in_progress";
      job.startedAt = now();
      job.runnerId = runner.id;
      job.runnerName = runner.name;
      job.runnerGroupId = runner.groupId;
      job.run.updatedAt = now();
      runner.jobId = job.id;
      running += 1;
      maxRunning = Math.max(maxRunning, running);
      onJob(job, "in_progress");
      state.changed();
      return { kind: "job", job, runner };
    },

    holder: (token, jobId) => {
      const runner = [...runners.values()].find((r) => r.token === token);
      if (runner === undefined) {
        const reason = retired.get(token);
        return reason === undefined ? { kind: "unauthorized" } : { kind: "gone", reason };
      }
      if (runner.jobId !== jobId) return { kind: "unauthorized" };
      return { kind: "job", job: jobs.get(jobId)!, runner };
    },

    complete: (job, conclusion) => {
      const runner = job.runnerId === null ? undefined : runners.get(job.runnerId);
      finish(job, conclusion);
      // JIT runners are ephemeral: GitHub removes them once their one job is done.
      if (runner !== undefined) retire(runner, "finished");
      state.changed();
    },

    cancelJob: (id) => {
      const job = jobs.get(id);
      if (job === undefined) throw new Error(`cancelJob: no job ${id}`);
      if (job.status === "completed") return;
      const runner = job.runnerId === null ? undefined : runners.get(job.runnerId);
      finish(job, "cancelled");
      if (runner !== undefined) retire(runner, "cancelled");
      state.changed();
    },

    maxRunning: () => maxRunning,

    watch: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    changed: () => {
      for (const listener of [...listeners]) listener();
    },
  };
  return state;

  function finish(job: JobRecord, conclusion: string): void {
    if (job.status === "in_progress") running -= 1;
    job.status = "completed";
    job.conclusion = conclusion;
    job.completedAt = now();
    job.run.updatedAt = now();
    onJob(job, "completed");
  }

  function retire(runner: RunnerRecord, reason: RetiredReason): void {
    runners.delete(runner.id);
    retired.set(runner.token, reason);
  }
}
