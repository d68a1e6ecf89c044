/**
 * A composite action's steps, run inside the step that uses it
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax#runs-for-composite-actions):
 *  - its own `steps` context and status; `inputs` from `with:` plus defaults;
 *  - every `run` step must name its shell (job defaults do not apply inside);
 *  - GITHUB_ACTION_PATH is the action's folder; GITHUB_ENV and GITHUB_PATH writes reach the job;
 *  - its outputs are its `outputs.<id>.value` expressions over its own steps.
 * Its lines appear in the calling step's log, as on GitHub.
 */
import { coerceToString, evaluateCondition, evaluateToken } from "./expressions.js";
import { applyPath } from "./env-files.js";
import type { JobScope } from "./job-env.js";
import { contextsFor, evaluateEnv, stepStatus } from "./job-env.js";
import type { StepRunContext, StepRunner } from "./job-runner.js";
import type { StepProcessResult } from "./step-exec.js";
import type { PreparedAction } from "./step-kinds.js";
import type { WorkflowStep } from "./workflow.js";

export async function runCompositeSteps(
  action: Extract<PreparedAction, { kind: "action" }>,
  steps: readonly WorkflowStep[],
  inputs: Record<string, string>,
  ctx: StepRunContext,
  runStep: StepRunner,
): Promise<StepProcessResult> {
  // Inner steps share the job's env and PATH (their writes reach the job) but not its steps.
  const scope: JobScope = {
    env: ctx.scope.env,
    path: ctx.scope.path,
    steps: {},
    status: "success",
  };
  const base = { ...ctx.base };
  const summary: string[] = [];
  const state: Record<string, string> = {};
  for (const step of steps) {
    const contexts = contextsFor(base, scope, { env: ctx.stepEnv, inputs });
    if (!evaluateCondition(step.if, contexts, stepStatus(scope), ctx.evalOptions)) {
      scope.steps[step.id] = { outputs: {}, outcome: "skipped", conclusion: "skipped" };
      continue;
    }
    const stepEnv = {
      ...ctx.stepEnv,
      ...evaluateEnv(step.env, contexts, ctx.evalOptions),
      GITHUB_ACTION_PATH: action.guestDir,
    };
    const inner: StepRunContext = {
      ...ctx,
      scope,
      base: { ...base, inputs },
      stepEnv,
      inComposite: true,
    };
    let failed: boolean;
    let result: StepProcessResult | undefined;
    try {
      result = await runStep(step, inner);
      failed =
        result !== undefined && (result.exitCode !== 0 || result.timedOut || result.commandFailed);
    } catch (error) {
      ctx.annotate({
        level: "error",
        message: ctx.masker.redact((error as Error).message),
        origin: "runner",
      });
      failed = true;
    }
    if (result) {
      Object.assign(scope.env, result.env);
      scope.path = applyPath(scope.path, result.path);
      if (result.summary) summary.push(result.summary);
      Object.assign(state, result.state);
    }
    const continueOnError =
      typeof step.continueOnError === "boolean"
        ? step.continueOnError
        : Boolean(evaluateToken(step.continueOnError, contexts, ctx.evalOptions));
    const outcome = failed ? "failure" : "success";
    const conclusion = failed && continueOnError ? "success" : outcome;
    scope.steps[step.id] = { outputs: { ...(result?.outputs ?? {}) }, outcome, conclusion };
    if (conclusion === "failure") scope.status = "failure";
  }
  ctx.scope.env = scope.env;
  ctx.scope.path = scope.path;
  const contexts = contextsFor(base, scope, { env: ctx.stepEnv, inputs });
  const outputs: Record<string, string> = {};
  for (const o of action.metadata.outputs) {
    if (o.value !== undefined) {
      try {
        outputs[o.id] = coerceToString(evaluateToken(o.value, contexts, ctx.evalOptions));
      } catch (error) {
        ctx.annotate({ level: "error", message: (error as Error).message, origin: "runner" });
      }
    }
  }
  return {
    exitCode: scope.status === "success" ? 0 : 1,
    timedOut: false,
    commandFailed: false,
    outputs,
    env: {},
    path: [],
    state,
    summary: summary.join(""),
    errors: [],
  };
}
