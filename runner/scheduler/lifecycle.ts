/**
 * One service job, from a free slot to a clean host (docs/sandbox-lifecycle.md, "Service jobs").
 * Order matters, and each step that creates something is recorded first:
 *
 *  1. before-create hooks       a non-zero exit refuses the job
 *  2. policy                    the label set's, bounded by ceilings (and the repo's own file)
 *  3. capacity                  wait until the policy's cpus and memory fit on the host
 *  4. runner name recorded      then the JIT runner registered (so a crash can find and delete it)
 *  5. sandbox id recorded       then the sandbox created and the runner run once inside it
 *  6. runner deleted            always (GitHub removes an ephemeral runner after its job; an idle
 *                               or broken one would otherwise stay registered)
 *  7. sandbox destroyed         always; then after-destroy hooks
 *  8. logs, report, metrics     the check run (or status) says what the sandbox saw
 */
import type { ResolvedPolicy } from "../policy/index.js";
import type { Sandbox, SandboxEvent, SandboxReport } from "../sandbox/index.js";
import type { Capacity, Need } from "./capacity.js";
import { runHooks } from "./host-hooks.js";
import { resultOf } from "./job-result.js";
import type { OutcomeInput } from "./job-result.js";
import { runnerLabels } from "./match.js";
import { policySummary, runnerDrive } from "./runner-job.js";
import type { GuestRunner, RunnerDrive } from "./runner-job.js";
import type { JobStore } from "./store.js";
import type {
  JobLogSink,
  JobRecord,
  JobSource,
  LabelSet,
  SandboxRequest,
  SchedulerLog,
  SchedulerMetrics,
} from "./types.js";

export interface LifecycleDeps {
  readonly source: JobSource;
  readonly store: JobStore;
  readonly labelSets: readonly LabelSet[];
  readonly runnerPrefix: string;
  readonly idleTimeoutMs: number;
  readonly hooksDir?: string;
  preparePolicy(record: JobRecord): Promise<ResolvedPolicy>;
  /** The runner inside this label set's template. */
  guestRunner(labelSet: string): GuestRunner;
  createSandbox(request: SandboxRequest): Sandbox | Promise<Sandbox>;
  openLog(record: JobRecord): JobLogSink;
  readonly metrics?: SchedulerMetrics;
  /** A sandbox came or went (the live-sandboxes gauge). */
  readonly sandboxChanged?: () => void;
  readonly log: SchedulerLog;
  now(): number;
  newId(): string;
}

export interface LiveJob {
  drive?: RunnerDrive;
  sandbox?: Sandbox;
  /** Set when the job was cancelled before its runner was registered. */
  cancelled?: boolean;
}

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

function hookEnv(record: JobRecord): Record<string, string> {
  return {
    SANDBOXED_SANDBOX_ID: record.sandboxId ?? "",
    SANDBOXED_JOB_ID: String(record.job.id),
    SANDBOXED_REPO: record.job.repo,
    SANDBOXED_LABELS: record.job.labels.join(","),
  };
}

function countEgress(report: SandboxReport | undefined, metrics?: SchedulerMetrics): void {
  if (!report || !metrics) return;
  if (report.egress?.denied) metrics.egressDenied(report.egress.denied);
  if (report.breach) metrics.limitBreached(report.breach.kind);
}

/** Run one job that holds a capacity slot; resolves when the host is clean again. */
export async function runServiceJob(
  deps: LifecycleDeps,
  capacity: Pick<Capacity, "fits">,
  reserve: (need: Need) => Promise<() => void>,
  first: JobRecord,
  live: LiveJob,
): Promise<JobRecord> {
  const { store, source, log } = deps;
  const id = first.job.id;
  // Every line carries the delivery id and job id (STYLE H16); reconcile finds have no delivery.
  const fields = {
    deliveryId: first.deliveryId ?? null,
    jobId: id,
    repo: first.job.repo,
    job: first.job.name,
  };
  // The sandbox id is recorded first: hooks, logs and gc all name the sandbox by it.
  let record = store.update(id, {
    state: "starting",
    startedAt: deps.now(),
    sandboxId: deps.newId(),
  });
  deps.metrics?.queueToStart((record.startedAt! - record.queuedAt) / 1000);
  const jobLog = deps.openLog(record);
  let outcome: OutcomeInput = { taken: false };
  let quiet = false;
  let created = false;
  let summaryText = `label set ${record.labelSet}`;
  let release: (() => void) | undefined;
  try {
    const refusal = (await runHooks(deps.hooksDir, "before-create", hookEnv(record))).find(
      (h) => !h.ok,
    );
    if (refusal) {
      // Left queued on GitHub, where another runner may take it (hooks/host/README.md).
      outcome = { taken: false, refused: `host hook ${refusal.hook} ${refusal.detail}` };
      quiet = true;
      return record;
    }
    let policy: ResolvedPolicy;
    try {
      policy = await deps.preparePolicy(record);
    } catch (error) {
      outcome = { taken: false, refused: errorText(error) };
      return record;
    }
    summaryText = policySummary(
      policy,
      record.labelSet,
      deps.labelSets.find((s) => s.name === record.labelSet)?.backend,
    );
    const need = { cpus: policy.resources.cpus, memoryBytes: policy.resources.memoryBytes };
    if (!capacity.fits(need)) {
      outcome = {
        taken: false,
        refused: `the policy asks for ${need.cpus} cpus and more memory than this host serves`,
      };
      return record;
    }
    release = await reserve(need);
    if (live.cancelled) {
      outcome = { taken: false, abortedFor: "cancelled" };
      return record;
    }
    const labelSet = deps.labelSets.find((s) => s.name === record.labelSet)!;
    const runnerName = `${deps.runnerPrefix}${id}-${deps.newId().slice(-6)}`;
    record = store.update(id, { runnerName });
    const runner = await source.createRunner(record.job, {
      name: runnerName,
      labels: runnerLabels(labelSet),
    });
    record = store.update(id, { runnerId: runner.runnerId });
    jobLog.writeJson("meta.json", {
      sandboxId: record.sandboxId,
      runnerName,
      startedAt: record.startedAt,
    });
    const drive = runnerDrive({
      runner: deps.guestRunner(record.labelSet),
      jitConfig: runner.jitConfig,
      policySummary: summaryText,
      idleTimeoutMs: deps.idleTimeoutMs,
      onOutput: (text) => jobLog.append("runner.log", text),
      onSignal: (signal) => {
        if (signal.kind === "taken") {
          record = store.update(id, { state: "running", takenAt: deps.now() });
          log.info({ ...fields, runnerName }, `runner took job ${signal.jobName}`);
        }
      },
    });
    live.drive = drive;
    const onEvent = (event: SandboxEvent): void => {
      if (event.type === "console") jobLog.append("console.log", event.text);
      else if (event.type === "egress")
        jobLog.append("egress.jsonl", `${JSON.stringify(event.decision)}\n`);
      else if (event.type === "phase" && event.phase === "ready") {
        record = store.update(id, { readyAt: deps.now() });
        log.info({ ...fields, sandboxId: record.sandboxId }, "sandbox ready");
      }
    };
    const sandbox = await deps.createSandbox({
      id: record.sandboxId!,
      job: record.job,
      labelSet: record.labelSet,
      policy,
      onEvent,
    });
    live.sandbox = sandbox;
    created = true;
    deps.sandboxChanged?.();
    let report: SandboxReport | undefined;
    try {
      report = await sandbox.run(drive.spec);
    } finally {
      await source
        .deleteRunner(record.job, runner.runnerId)
        .catch((error) =>
          log.warn({ ...fields, runnerName, err: errorText(error) }, "runner not deleted; gc will"),
        );
      await sandbox.destroy();
      live.sandbox = undefined;
      deps.sandboxChanged?.();
    }
    const state = drive.state();
    outcome = {
      report,
      taken: state.taken,
      ...(state.result ? { runnerResult: state.result } : {}),
      ...(state.abortedFor ? { abortedFor: state.abortedFor } : {}),
    };
    countEgress(report, deps.metrics);
    return record;
  } catch (error) {
    outcome = { ...outcome, error: errorText(error) };
    log.error({ ...fields, err: errorText(error) }, "job failed outside the sandbox");
    return record;
  } finally {
    release?.();
    record = await finish(deps, record, outcome, { summaryText, jobLog, quiet, created });
  }
}

async function finish(
  deps: LifecycleDeps,
  record: JobRecord,
  outcome: OutcomeInput,
  how: {
    readonly summaryText: string;
    readonly jobLog: JobLogSink;
    /** A host hook refused the job: it stays queued on GitHub for another runner, unreported. */
    readonly quiet: boolean;
    /** A sandbox was created, so after-destroy hooks run. */
    readonly created: boolean;
  },
): Promise<JobRecord> {
  const { summaryText, jobLog, quiet } = how;
  const result = resultOf({
    ...outcome,
    policySummary: summaryText,
    ...(record.sandboxId ? { sandboxId: record.sandboxId } : {}),
  });
  const hookResults = how.created
    ? await runHooks(deps.hooksDir, "after-destroy", hookEnv(record))
    : [];
  for (const h of hookResults.filter((r) => !r.ok))
    deps.log.warn({ jobId: record.job.id, hook: h.hook }, `after-destroy hook ${h.detail}`);
  if (result.report) jobLog.writeJson("report.json", result.report);
  const done = deps.store.update(record.job.id, {
    state: "done",
    finishedAt: deps.now(),
    outcome: result.outcome,
    title: result.title,
  });
  jobLog.writeJson("outcome.json", {
    outcome: result.outcome,
    title: result.title,
    summary: result.summary,
    record: done,
  });
  deps.metrics?.jobFinished(result.outcome);
  deps.log.info(
    {
      jobId: record.job.id,
      repo: record.job.repo,
      outcome: result.outcome,
      sandboxId: record.sandboxId,
    },
    result.title,
  );
  // An idle runner took no job: nothing ran, and another runner may have this job's result.
  if (result.outcome !== "idle" && !quiet) {
    await deps.source
      .report(record.job, result)
      .catch((error) =>
        deps.log.warn({ jobId: record.job.id, err: errorText(error) }, "report to GitHub failed"),
      );
  }
  return done;
}
