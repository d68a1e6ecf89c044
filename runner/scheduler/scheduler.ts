/**
 * The service's queue: jobs arrive from webhooks and reconcile passes (idempotent on job id),
 * wait for a capacity slot, and run one per fresh sandbox (lifecycle.ts). A restart resumes from
 * the job records; SIGTERM drains (no new jobs; running ones finish).
 */
import { createCapacity } from "./capacity.js";
import type { Capacity } from "./capacity.js";
import { runServiceJob } from "./lifecycle.js";
import type { LifecycleDeps, LiveJob } from "./lifecycle.js";
import { matchLabelSet } from "./match.js";
import type { MatchReason } from "./match.js";
import { resultOf } from "./job-result.js";
import { openJobStore } from "./store.js";
import type { JobStore } from "./store.js";
import type { JobRecord, SourceJob } from "./types.js";

export interface SchedulerOptions extends Omit<LifecycleDeps, "store"> {
  readonly stateDir: string;
  readonly capacity: {
    readonly sandboxes: number;
    readonly cpus: number;
    readonly memoryBytes: number;
  };
  readonly reconcileIntervalMs: number;
  /** Finished job records are kept this long (their logs live in the log store). */
  readonly keepRecordsMs?: number;
}

export type OfferResult =
  | { readonly taken: true }
  | { readonly taken: false; readonly reason: MatchReason | "duplicate" | "draining" };

export interface SchedulerStatus {
  readonly queued: number;
  readonly running: number;
  readonly draining: boolean;
  readonly lastReconcile?: number;
  readonly lastReconcileError?: string;
}

export interface Scheduler {
  /** Start: resume what a previous process left, then reconcile on a timer. */
  start(): Promise<void>;
  offer(job: SourceJob, via: "webhook" | "reconcile", deliveryId?: string): OfferResult;
  /** A job's status changed at the source (a workflow_job webhook). */
  jobChanged(job: SourceJob, action: string, runnerName: string | null): void;
  reconcile(): Promise<void>;
  /** Take no new job, let running ones finish; resolves when none is left. */
  drain(): Promise<void>;
  /** Resolves when no job is queued or running here (tests, `serve --once`). */
  settled(): Promise<void>;
  /** Delete runners with our prefix that no live job owns (crash leftovers). */
  removeStrayRunners(): Promise<string[]>;
  status(): SchedulerStatus;
  records(): readonly JobRecord[];
}

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

export function createScheduler(options: SchedulerOptions): Scheduler {
  const store: JobStore = openJobStore(options.stateDir);
  const capacity: Capacity = createCapacity(options.capacity);
  const live = new Map<number, LiveJob>();
  const liveCount = (): number => [...live.values()].filter((l) => l.sandbox).length;
  const deps: LifecycleDeps = {
    ...options,
    store,
    sandboxChanged: () => options.metrics?.sandboxesLive(liveCount()),
  };
  const inFlight = new Set<Promise<unknown>>();
  let draining = false;
  let timer: NodeJS.Timeout | undefined;
  let lastReconcile: number | undefined;
  let lastReconcileError: string | undefined;
  let reconciling: Promise<void> | undefined;
  const { log } = options;

  const launch = (record: JobRecord): void => {
    const entry: LiveJob = {};
    live.set(record.job.id, entry);
    const task = capacity
      .run(async (reserve) => {
        const current = store.get(record.job.id);
        if (draining || !current || current.state !== "queued") return;
        if (entry.cancelled) {
          store.update(record.job.id, {
            state: "done",
            outcome: "cancelled",
            finishedAt: options.now(),
          });
          return;
        }
        // A job another runner took, or one cancelled while its webhook was lost, needs no VM.
        const waiting = await options.source.isQueued(current.job).catch(() => true);
        if (!waiting) {
          log.info({ jobId: current.job.id }, "no longer queued at the source; skipped");
          store.update(record.job.id, {
            state: "done",
            outcome: "idle",
            finishedAt: options.now(),
          });
          return;
        }
        await runServiceJob(deps, capacity, reserve, current, entry);
      })
      .catch((error) => log.error({ jobId: record.job.id, err: errorText(error) }, "job crashed"))
      .finally(() => {
        live.delete(record.job.id);
        options.metrics?.sandboxesLive(liveCount());
        inFlight.delete(task);
      });
    inFlight.add(task);
  };

  const scheduler: Scheduler = {
    async start() {
      await resume();
      await scheduler
        .removeStrayRunners()
        .catch((error) =>
          log.warn({ err: errorText(error) }, "could not list runners for leftovers"),
        );
      for (const record of store.all().filter((r) => r.state === "queued")) launch(record);
      await scheduler.reconcile();
      timer = setInterval(() => void scheduler.reconcile(), options.reconcileIntervalMs);
      timer.unref();
    },

    offer(job, via, deliveryId) {
      if (store.get(job.id)) return { taken: false, reason: "duplicate" };
      if (draining) return { taken: false, reason: "draining" };
      const match = matchLabelSet(job.labels, options.labelSets);
      if (match.verdict === "ignore") return { taken: false, reason: match.reason };
      const record = store.put({
        job,
        labelSet: match.labelSet.name,
        state: "queued",
        queuedAt: options.now(),
        via,
        ...(deliveryId ? { deliveryId } : {}),
      });
      log.info(
        { jobId: job.id, repo: job.repo, deliveryId, via, labelSet: record.labelSet },
        "job queued",
      );
      launch(record);
      return { taken: true };
    },

    jobChanged(job, action, runnerName) {
      if (action === "in_progress" && runnerName) {
        const owner = store
          .all()
          .find(
            (r) => r.runnerName === runnerName && (r.state === "starting" || r.state === "running"),
          );
        if (owner) live.get(owner.job.id)?.drive?.markTaken();
        return;
      }
      if (action !== "completed") return;
      const record = store.get(job.id);
      const entry = live.get(job.id);
      if (!record || record.state === "done" || !entry) return;
      // Finished elsewhere (cancelled, or another runner ran it): our runner for it is not needed
      // unless it already took a job (runners are fungible; it may be running another one).
      entry.cancelled = true;
      if (entry.drive?.abortIfIdle("cancelled"))
        log.info({ jobId: job.id }, "job ended at the source before our runner took it");
    },

    async reconcile() {
      if (draining) return;
      if (reconciling) return reconciling;
      reconciling = (async () => {
        const since = lastReconcile ?? options.now() - options.reconcileIntervalMs;
        try {
          const jobs = await options.source.listQueued();
          for (const job of jobs) scheduler.offer(job, "reconcile");
          if (options.source.redeliver) {
            const n = await options.source.redeliver(since - 60_000);
            if (n > 0) log.info({ redelivered: n }, "asked GitHub to redeliver failed webhooks");
          }
          lastReconcile = options.now();
          lastReconcileError = undefined;
          store.prune(options.now() - (options.keepRecordsMs ?? 7 * 86_400_000));
        } catch (error) {
          lastReconcileError = errorText(error);
          log.warn({ err: lastReconcileError }, "reconcile pass failed; next pass retries");
        } finally {
          reconciling = undefined;
        }
      })();
      return reconciling;
    },

    async drain() {
      draining = true;
      if (timer) clearInterval(timer);
      await reconciling;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },

    async removeStrayRunners() {
      const owned = new Set(
        store
          .all()
          .filter((r) => r.state !== "done" && live.has(r.job.id))
          .map((r) => r.runnerName),
      );
      const removed: string[] = [];
      for (const runner of await options.source.listRunners(options.runnerPrefix)) {
        if (owned.has(runner.name)) continue;
        const owner = store.all().find((r) => r.runnerName === runner.name);
        const job = owner?.job ?? runner.job;
        if (!job) continue;
        await options.source.deleteRunner(job, runner.id);
        removed.push(runner.name);
      }
      return removed;
    },

    status: () => ({
      queued: store.all().filter((r) => r.state === "queued").length,
      running: liveCount(),
      draining,
      ...(lastReconcile ? { lastReconcile } : {}),
      ...(lastReconcileError ? { lastReconcileError } : {}),
    }),
    records: () => store.all(),
  };

  /**
   * A job that was starting or running when the last process died: its sandbox is gone (the cli
   * runs gc first), so its runner is deleted and the repository told `infrastructure_error`.
   */
  async function resume(): Promise<void> {
    for (const record of store.all()) {
      if (record.state !== "starting" && record.state !== "running") continue;
      if (record.runnerId !== undefined) {
        await options.source
          .deleteRunner(record.job, record.runnerId)
          .catch((error) =>
            log.warn({ jobId: record.job.id, err: errorText(error) }, "runner not deleted"),
          );
      }
      const result = resultOf({
        taken: record.state === "running",
        error: "the service stopped while this job ran; its sandbox was removed at restart",
        policySummary: `label set ${record.labelSet}`,
      });
      store.update(record.job.id, {
        state: "done",
        finishedAt: options.now(),
        outcome: result.outcome,
        title: result.title,
      });
      options.openLog(record).writeJson("outcome.json", { ...result, record });
      options.metrics?.jobFinished(result.outcome);
      log.warn({ jobId: record.job.id, repo: record.job.repo }, result.title);
      await options.source
        .report(record.job, result)
        .catch((error) =>
          log.warn({ jobId: record.job.id, err: errorText(error) }, "report failed"),
        );
    }
  }

  return scheduler;
}
