/**
 * Runs a workflow's selected jobs, one fresh sandbox per job (and per matrix combination):
 *  - stages in `needs` order (plan.ts); a job whose `if` is false, or whose needs did not all
 *    succeed (under the default `success()`), is skipped, as on GitHub;
 *  - a matrix expands after its needs finished (a strategy may read their outputs), runs at most
 *    min(max-parallel, host capacity) at once, and with fail-fast cancels what has not started;
 *  - job outputs are evaluated after the steps, for the jobs that need them.
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
 */
import pLimit from "p-limit";
import { isSandboxedError } from "../errors/index.js";
import { coerceToString, evaluateCondition, evaluateToken } from "./expressions.js";
import type { Contexts, EvaluateOptions, JobResult } from "./expressions.js";
import { expandMatrix, matrixJobName, strategyContext } from "./matrix.js";
import { ancestorsOf } from "./plan.js";
import type { Plan } from "./plan.js";
import type { EngineEvent, JobReport, RunReport } from "./types.js";
import type { LoadedWorkflow, WorkflowJob } from "./workflow.js";

export interface JobInstance {
  readonly job: WorkflowJob;
  readonly name: string;
  readonly matrix: Readonly<Record<string, unknown>>;
  readonly strategy: Readonly<Record<string, unknown>>;
  readonly needs: Readonly<Record<string, { result: JobResult; outputs: Record<string, string> }>>;
  /** Minutes from the job's timeout-minutes (GitHub's default 360), capped by the policy. */
  readonly timeoutMinutes: number;
}

export interface RunWorkflowOptions {
  readonly workflow: LoadedWorkflow;
  readonly plan: Plan;
  /** Contexts every job sees: github, vars, secrets, inputs. */
  readonly contexts: Pick<Contexts, "github" | "vars" | "secrets" | "inputs">;
  readonly maxParallel: number;
  readonly evalOptions: EvaluateOptions;
  /** Runs one job instance in its own sandbox and returns its report (cli composes it). */
  readonly runJob: (instance: JobInstance, signal: AbortSignal) => Promise<JobReport>;
  readonly emit: (event: EngineEvent) => void;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

export async function runWorkflow(options: RunWorkflowOptions): Promise<RunReport> {
  const started = options.now();
  const { workflow } = options;
  const results = new Map<string, { result: JobResult; outputs: Record<string, string> }>();
  const reports: JobReport[] = [];
  const limit = pLimit(Math.max(1, options.maxParallel));
  const cancelled = (): boolean => options.signal?.aborted === true;

  // Each job starts as soon as the jobs it needs have ended (not when their whole stage has),
  // as on GitHub; stages only guarantee that a job's needs were scheduled before it.
  const ended = new Map<string, Promise<void>>();
  const runOne = async (job: WorkflowJob): Promise<void> => {
    await Promise.all(job.needs.map((n) => ended.get(n.id)));
    const needs = Object.fromEntries(
      job.needs.map((n) => [
        n.id,
        results.get(n.id) ?? { result: "skipped" as JobResult, outputs: {} },
      ]),
    );
    const ancestors = Object.fromEntries(
      ancestorsOf(workflow, job.id).map((id) => [id, results.get(id)?.result ?? "skipped"]),
    );
    const contexts: Contexts = { ...options.contexts, needs, env: {} };
    let run = false;
    let error: string | undefined;
    try {
      run = evaluateCondition(
        job.if,
        contexts,
        { level: "job", cancelled: cancelled(), ancestors },
        options.evalOptions,
      );
    } catch (e) {
      error = (e as Error).message;
    }
    if (!run) {
      const report: JobReport = {
        name: job.id,
        id: job.id,
        result: error ? "failure" : "skipped",
        steps: [],
        outputs: {},
        annotations: [],
        summary: "",
        ...(error ? { error } : {}),
      };
      reports.push(report);
      results.set(job.id, { result: report.result, outputs: {} });
      options.emit({ type: "job-end", job: job.id, report });
      return;
    }
    const jobReports = await runMatrix(options, job, contexts, needs, limit, cancelled());
    reports.push(...jobReports);
    // A matrix job's result: failure if any combination failed; its outputs come from the
    // last combination that set them (GitHub's documented "last one wins").
    const result: JobResult = jobReports.some((r) => r.result === "failure")
      ? "failure"
      : jobReports.some((r) => r.result === "cancelled")
        ? "cancelled"
        : "success";
    const outputs = Object.assign({}, ...jobReports.map((r) => r.outputs)) as Record<
      string,
      string
    >;
    results.set(job.id, { result, outputs });
  };
  for (const job of options.plan.stages.flat()) ended.set(job.id, runOne(job));
  await Promise.all(ended.values());
  // The report lists jobs in plan order, whatever order they finished in.
  const order = options.plan.stages.flat().map((j) => j.id);
  reports.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  const result: JobResult = reports.some((r) => r.result === "failure")
    ? "failure"
    : reports.some((r) => r.result === "cancelled")
      ? "cancelled"
      : "success";
  return {
    workflow: workflow.name ?? workflow.file,
    file: workflow.file,
    event: String((options.contexts.github as Record<string, unknown>).event_name ?? "push"),
    result,
    jobs: reports,
    durationMs: options.now() - started,
  };
}

async function runMatrix(
  options: RunWorkflowOptions,
  job: WorkflowJob,
  contexts: Contexts,
  needs: JobInstance["needs"],
  limit: ReturnType<typeof pLimit>,
  cancelledBefore: boolean,
): Promise<JobReport[]> {
  // A job whose `if` held although the run was already cancelled (always(), cancelled()) runs
  // as any job, its steps too, as on GitHub; otherwise a cancel stops what has not started.
  const runSignal = cancelledBefore ? undefined : options.signal;
  const fail = (message: string): JobReport[] => {
    const report: JobReport = {
      name: job.id,
      id: job.id,
      result: "failure",
      steps: [],
      outputs: {},
      annotations: [{ level: "error", message, origin: "runner" }],
      summary: "",
      error: message,
    };
    options.emit({ type: "job-end", job: job.id, report });
    return [report];
  };
  let expansion;
  let names: string[];
  let timeoutMinutes: number;
  try {
    const strategy = job.strategy
      ? evaluateToken(job.strategy, contexts, options.evalOptions)
      : undefined;
    expansion = expandMatrix(
      strategy,
      options.plan.matrixFilter
        ? { filter: options.plan.matrixFilter, source: job.source }
        : { source: job.source },
    );
    // Per combination: a name with expressions is evaluated with its matrix; any other name gets
    // the values appended, as GitHub shows matrix jobs (runner.server#78 mirrors it).
    const expanded = expansion;
    names = expanded.combinations.map((matrix, index) =>
      job.name?.isExpression
        ? coerceToString(
            evaluateToken(
              job.name,
              { ...contexts, matrix, strategy: strategyContext(expanded, index) },
              options.evalOptions,
            ),
          )
        : matrixJobName(job.name?.toString() ?? job.id, matrix),
    );
    const t = job.timeoutMinutes;
    timeoutMinutes =
      t === undefined
        ? 360
        : typeof t === "number"
          ? t
          : Number(evaluateToken(t, contexts, options.evalOptions));
    // A value that evaluates to nothing useful must not become a zero-second timeout.
    if (!Number.isFinite(timeoutMinutes) || timeoutMinutes <= 0)
      throw new Error(
        `${job.source.file}:${job.source.line}:${job.source.col}: jobs.${job.id}.timeout-minutes must be a positive number of minutes, got ${String(timeoutMinutes)}`,
      );
  } catch (error) {
    return fail(isSandboxedError(error) || error instanceof Error ? error.message : String(error));
  }
  const failFast = new AbortController();
  const jobLimit = pLimit(Math.max(1, expansion.maxParallel ?? expansion.combinations.length));
  const runs = expansion.combinations.map((matrix, index) =>
    jobLimit(() =>
      limit(async (): Promise<JobReport> => {
        const display = names[index]!;
        if (failFast.signal.aborted || runSignal?.aborted) {
          const report: JobReport = {
            name: display,
            id: job.id,
            matrix,
            result: "cancelled",
            steps: [],
            outputs: {},
            annotations: [],
            summary: "",
            error: failFast.signal.aborted
              ? "cancelled by fail-fast: another combination failed"
              : "cancelled",
          };
          options.emit({ type: "job-end", job: display, report });
          return report;
        }
        const signal = runSignal ? AbortSignal.any([runSignal, failFast.signal]) : failFast.signal;
        const report = await options.runJob(
          {
            job,
            name: display,
            matrix,
            strategy: strategyContext(expansion, index),
            needs,
            timeoutMinutes,
          },
          signal,
        );
        if (report.result === "failure" && expansion.failFast) failFast.abort();
        return report;
      }),
    ),
  );
  return Promise.all(runs);
}
