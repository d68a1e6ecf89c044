/**
 * Runs one job's steps inside a ready sandbox, as the sandbox's driver (JobSpec.drive). Per step,
 * in the runner's order (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idsteps):
 *  1. evaluate `if` (already `success() && …` unless it names a status function); false: skipped;
 *  2. evaluate name, env, then what it runs; an expression error fails the step, not the run;
 *  3. run it (step-exec.ts, action-steps.ts); outcome from exit code, timeout, failed commands;
 *  4. continue-on-error turns a failed outcome into a successful conclusion;
 *  5. GITHUB_ENV / GITHUB_PATH writes reach later steps; outputs land in the steps context.
 * Then post steps of the actions that ran, newest first, under their post-if (default always()).
 */
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import type { JobControl } from "../sandbox/index.js";
import { isSandboxedError } from "../errors/index.js";
import type { Annotation } from "./command-outcome.js";
import { applyPath } from "./env-files.js";
import { evaluateCondition, evaluateToken, coerceToString } from "./expressions.js";
import type { EvaluateOptions } from "./expressions.js";
import type { ContextBase, JobScope } from "./job-env.js";
import { contextsFor, evaluateEnv, stepStatus } from "./job-env.js";
import type { Masker } from "./masker.js";
import type { StepProcessResult } from "./step-exec.js";
import type { EngineEvent, StepConclusion, StepReport } from "./types.js";
import type { WorkflowStep } from "./workflow.js";

/** What a step kind needs to run itself; action-steps.ts and run-step.ts implement it. */
export interface StepRunContext {
  readonly control: JobControl;
  readonly scope: JobScope;
  readonly base: ContextBase;
  readonly masker: Masker;
  readonly evalOptions: EvaluateOptions;
  readonly index: number;
  /** The step's own env (evaluated), on top of the job's env context. */
  readonly stepEnv: Readonly<Record<string, string>>;
  readonly timeoutMs: number | undefined;
  readonly line: (stream: "stdout" | "stderr", text: string) => void;
  readonly group: (title: string | undefined) => void;
  readonly annotate: (annotation: Annotation) => void;
  /** Aborts when the run is cancelled: the running step's processes are killed. */
  readonly signal?: AbortSignal;
  /** Inside a composite action: job and workflow `defaults.run` do not apply. */
  readonly inComposite?: boolean;
  /** Register a post step (JavaScript actions with `post`). */
  readonly addPost: (post: PostStep) => void;
}

export interface PostStep {
  readonly name: string;
  readonly condition: string;
  readonly run: (ctx: StepRunContext) => Promise<StepProcessResult | undefined>;
}

export type StepRunner = (
  step: WorkflowStep,
  ctx: StepRunContext,
) => Promise<StepProcessResult | undefined>;

export interface JobRunOptions {
  readonly job: string;
  readonly steps: readonly WorkflowStep[];
  readonly base: ContextBase;
  readonly scope: JobScope;
  readonly masker: Masker;
  readonly evalOptions: EvaluateOptions;
  readonly runStep: StepRunner;
  readonly defaultName: (step: WorkflowStep) => string;
  /** A JavaScript action's `pre`, run before the job's first step under its pre-if. */
  readonly preOf?: (step: WorkflowStep) => PostStep | undefined;
  readonly emit: (event: EngineEvent) => void;
  readonly now: () => number;
}

export interface JobStepsResult {
  readonly steps: StepReport[];
  readonly annotations: Annotation[];
  readonly summary: string;
}

export async function runJobSteps(
  options: JobRunOptions,
  control: JobControl,
  signal?: AbortSignal,
): Promise<JobStepsResult> {
  const { scope, base, masker, emit, job } = options;
  const reports: StepReport[] = [];
  const annotations: Annotation[] = [];
  const posts: PostStep[] = [];
  let summary = "";
  let index = 0;

  const context = (i: number, stepEnv: Record<string, string>, timeoutMs?: number) => ({
    control,
    ...(signal ? { signal } : {}),
    scope,
    base,
    masker,
    evalOptions: options.evalOptions,
    index: i,
    stepEnv,
    timeoutMs,
    line: (stream: "stdout" | "stderr", text: string) =>
      emit({ type: "line", job, index: i, stream, text }),
    group: (title: string | undefined) =>
      emit({ type: "group", job, ...(title === undefined ? {} : { title }) }),
    annotate: (a: Annotation) => {
      annotations.push(a);
      emit({ type: "annotation", job, annotation: a });
    },
    addPost: (p: PostStep) => posts.push(p),
  });

  const finish = (
    i: number,
    id: string,
    name: string,
    started: number,
    outcome: StepConclusion,
    continueOnError: boolean,
    extra: Partial<StepReport> = {},
  ): void => {
    const conclusion = outcome === "failure" && continueOnError ? "success" : outcome;
    const report: StepReport = {
      id,
      name,
      outcome,
      conclusion,
      durationMs: options.now() - started,
      ...extra,
    };
    reports.push(report);
    if (conclusion === "failure" && scope.status === "success") scope.status = "failure";
    emit({ type: "step-end", job, index: i, step: report });
  };

  const apply = (
    id: string,
    result: StepProcessResult | undefined,
    outcome: string,
    conclusion: string,
  ) => {
    if (result) {
      Object.assign(scope.env, result.env);
      scope.path = applyPath(scope.path, result.path);
      if (result.summary)
        summary += result.summary.endsWith("\n") ? result.summary : `${result.summary}\n`;
    }
    scope.steps[id] = { outputs: { ...(result?.outputs ?? {}) }, outcome, conclusion };
  };

  // Pre and post steps: an action's own, under its pre-if / post-if (default always()); their
  // summaries count, their failures fail the job, and they have no continue-on-error.
  const runAux = async (aux: PostStep, kind: "pre" | "post"): Promise<void> => {
    const i = index++;
    const started = options.now();
    emit({ type: "step-start", job, index: i, name: aux.name });
    try {
      const ctx0 = contextsFor(base, scope);
      if (!evaluateCondition(aux.condition, ctx0, stepStatus(scope), options.evalOptions)) {
        finish(i, `${kind}-${i}`, aux.name, started, "skipped", false);
        return;
      }
      const result = await aux.run(context(i, {}));
      if (result?.summary)
        summary += result.summary.endsWith("\n") ? result.summary : `${result.summary}\n`;
      const failed = result !== undefined && (result.exitCode !== 0 || result.commandFailed);
      finish(i, `${kind}-${i}`, aux.name, started, failed ? "failure" : "success", false);
    } catch (error) {
      const message = masker.redact((error as Error).message);
      context(i, {}).annotate({ level: "error", message, origin: "runner" });
      finish(i, `${kind}-${i}`, aux.name, started, "failure", false, { error: message });
    }
  };

  // Pre steps first, in step order (https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax#runspre).
  for (const pre of options.steps.flatMap((s) => options.preOf?.(s) ?? []))
    await runAux(pre, "pre");

  for (const step of options.steps) {
    // Cancelled (Ctrl-C, fail-fast): later steps run only under always() or cancelled().
    if (signal?.aborted) scope.status = "cancelled";
    const i = index++;
    const started = options.now();
    // The default name quotes the script, which may hold a value masked earlier in the job.
    let name = masker.redact(options.defaultName(step));
    const ctx0 = contextsFor(base, scope);
    let continueOnError = false;
    try {
      if (step.name)
        name = masker.redact(coerceToString(evaluateToken(step.name, ctx0, options.evalOptions)));
    } catch {
      // GitHub keeps the default name when the name expression fails
    }
    emit({ type: "step-start", job, index: i, name });
    try {
      continueOnError =
        typeof step.continueOnError === "boolean"
          ? step.continueOnError
          : Boolean(evaluateToken(step.continueOnError, ctx0, options.evalOptions));
      if (!evaluateCondition(step.if, ctx0, stepStatus(scope), options.evalOptions)) {
        apply(step.id, undefined, "skipped", "skipped");
        finish(i, step.id, name, started, "skipped", false);
        continue;
      }
      const stepEnv = evaluateEnv(step.env, ctx0, options.evalOptions);
      const timeoutMs = timeoutOf(step.timeoutMinutes, ctx0, options.evalOptions);
      const result = await options.runStep(step, context(i, stepEnv, timeoutMs));
      const failed =
        result !== undefined && (result.exitCode !== 0 || result.timedOut || result.commandFailed);
      for (const e of result?.errors ?? [])
        context(i, {}).annotate({ level: "error", message: e, origin: "runner" });
      if (result?.timedOut)
        context(i, {}).annotate({
          level: "error",
          message: `The action '${name}' has timed out after ${Number(((timeoutMs ?? 0) / 60000).toFixed(2))} minutes.`,
          origin: "runner",
        });
      const outcome = failed ? "failure" : "success";
      const conclusion = failed && continueOnError ? "success" : outcome;
      apply(step.id, result, outcome, conclusion);
      finish(i, step.id, name, started, outcome, continueOnError, {
        ...(result ? { exitCode: result.exitCode } : {}),
        ...(result?.timedOut ? { timedOut: true } : {}),
      });
    } catch (error) {
      // The sandbox went away (a cap, the timeout): nothing more can run.
      if (!isSandboxedError(error) && /sandbox|VM|agent|timeout/i.test((error as Error).message)) {
        finish(i, step.id, name, started, "failure", false, { error: (error as Error).message });
        scope.status = "failure";
        throw error;
      }
      const message = masker.redact((error as Error).message);
      context(i, {}).annotate({ level: "error", message, origin: "runner" });
      apply(step.id, undefined, "failure", continueOnError ? "success" : "failure");
      finish(i, step.id, name, started, "failure", continueOnError, { error: message });
    }
  }

  for (const post of posts.reverse()) await runAux(post, "post");
  return { steps: reports, annotations, summary };
}

/** Step timeout-minutes: a number or an expression; GitHub allows fractions of a minute. */
function timeoutOf(
  value: number | TemplateToken | undefined,
  contexts: ReturnType<typeof contextsFor>,
  options: EvaluateOptions,
): number | undefined {
  if (value === undefined) return undefined;
  const minutes =
    typeof value === "number" ? value : Number(evaluateToken(value, contexts, options));
  return Number.isFinite(minutes) && minutes > 0 ? Math.round(minutes * 60_000) : undefined;
}
