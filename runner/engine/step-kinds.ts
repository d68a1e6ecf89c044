/**
 * How each kind of step runs: `run` scripts through GitHub's shells, JavaScript actions on the
 * guest's Node 24 (with INPUT_* variables, pre and post), composite actions step by step, and
 * actions/checkout satisfied by the working tree already copied in.
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import { SandboxedError } from "../errors/index.js";
import type { ActionMetadata } from "./action-metadata.js";
import { coerceToString, evaluateToken } from "./expressions.js";
import type { Contexts } from "./expressions.js";
import { GUEST_NODE } from "./guest-layout.js";
import type { GuestLayout } from "./guest-layout.js";
import { contextsFor, processEnv } from "./job-env.js";
import type { PostStep, StepRunContext, StepRunner } from "./job-runner.js";
import { shellCommand } from "./shells.js";
import { runStepProcess } from "./step-exec.js";
import type { StepProcessResult } from "./step-exec.js";
import type { CommandProcessorOptions } from "./workflow-commands.js";
import type { RunDefaults, WorkflowStep } from "./workflow.js";

/** A `uses:` resolved before the sandbox booted. */
export type PreparedAction =
  | { readonly kind: "checkout"; readonly uses: string }
  | {
      readonly kind: "action";
      readonly uses: string;
      /** Where the action's folder is inside the sandbox. */
      readonly guestDir: string;
      readonly metadata: ActionMetadata;
      /** `owner/repo` and ref for remote actions (GITHUB_ACTION_REPOSITORY / _REF). */
      readonly repository?: string;
      readonly ref?: string;
    };

export interface StepKindOptions {
  readonly layout: GuestLayout;
  readonly actions: ReadonlyMap<string, PreparedAction>;
  /** Job defaults first, then workflow defaults. */
  readonly defaults: readonly RunDefaults[];
  readonly commandOptions: Omit<CommandProcessorOptions, "masker">;
  /** GitHub's default variables for a step (GITHUB_ACTION and the rest). */
  readonly defaultEnv: (action: string, extra?: Record<string, string>) => Record<string, string>;
  /** Composite steps: run an action's own steps (composite.ts). */
  readonly runComposite: (
    action: Extract<PreparedAction, { kind: "action" }>,
    inputs: Record<string, string>,
    ctx: StepRunContext,
  ) => Promise<StepProcessResult>;
  readonly sha: string;
  /** GITHUB_STATE an action's pre saved, by step id, for its main and post. */
  readonly savedState?: Map<string, Record<string, string>>;
}

function str(token: TemplateToken | undefined, contexts: Contexts, ctx: StepRunContext) {
  return token === undefined
    ? undefined
    : coerceToString(evaluateToken(token, contexts, ctx.evalOptions));
}

function io(options: StepKindOptions, ctx: StepRunContext) {
  return {
    control: ctx.control,
    masker: ctx.masker,
    fileCommands: options.layout.fileCommands,
    commandOptions: options.commandOptions,
    onLine: ctx.line,
    onGroup: ctx.group,
    onAnnotation: ctx.annotate,
  };
}

export async function runScript(
  options: StepKindOptions,
  ctx: StepRunContext,
  step: {
    readonly id: string;
    readonly run: TemplateToken;
    readonly shell: TemplateToken | undefined;
    readonly workingDirectory: TemplateToken | undefined;
  },
  extraEnv: Record<string, string> = {},
  allowDefaults = true,
): Promise<StepProcessResult> {
  const contexts = contextsFor(ctx.base, ctx.scope, { env: ctx.stepEnv });
  const script = str(step.run, contexts, ctx) ?? "";
  const defaults = allowDefaults ? options.defaults : [];
  const pick = (key: keyof RunDefaults, own: TemplateToken | undefined) =>
    str(own, contexts, ctx) ??
    defaults.map((d) => str(d[key], contexts, ctx)).find((v) => v !== undefined);
  const shell = pick("shell", step.shell);
  const cwd = path.posix.resolve(
    options.layout.workspace,
    pick("workingDirectory", step.workingDirectory) ?? ".",
  );
  const probe = shellCommand(shell, "{0}");
  const scriptPath = path.posix.join(options.layout.temp, `${randomUUID()}${probe.extension}`);
  const command = shellCommand(shell, scriptPath);
  // As GitHub's log: the script as it will run (masked), then the shell, folded in a group.
  const shown = ctx.masker.redact(script).trimEnd().split("\n");
  ctx.line("stdout", `##[group]Run ${shown[0] ?? ""}`);
  for (const l of shown.length > 1 ? shown : []) ctx.line("stdout", l);
  ctx.line("stdout", `shell: ${command.template}`);
  ctx.line("stdout", "##[endgroup]");
  const env = processEnv(
    { ...ctx.scope.env, ...ctx.stepEnv, ...extraEnv },
    options.defaultEnv(
      step.id,
      extraEnv.GITHUB_ACTION_PATH ? { GITHUB_ACTION_PATH: extraEnv.GITHUB_ACTION_PATH } : {},
    ),
    ctx.scope.path,
  );
  return runStepProcess(io(options, ctx), {
    name: step.id,
    argv: command.argv,
    script: { path: scriptPath, content: (command.prefix ?? "") + script },
    env,
    cwd,
    ...(ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

/** `with:` plus each input's default, as INPUT_<NAME> (upper case, spaces to _). */
export function actionInputs(
  metadata: ActionMetadata,
  withToken: TemplateToken | undefined,
  contexts: Contexts,
  ctx: StepRunContext,
): Record<string, string> {
  const given = withToken ? evaluateToken(withToken, contexts, ctx.evalOptions) : {};
  const inputs: Record<string, string> = {};
  for (const input of metadata.inputs) {
    if (input.default !== undefined) inputs[input.id] = str(input.default, contexts, ctx) ?? "";
  }
  if (given && typeof given === "object" && !Array.isArray(given)) {
    for (const [k, v] of Object.entries(given as Record<string, unknown>))
      inputs[k] = coerceToString(v);
  }
  return inputs;
}

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]),
  );
}

async function runNode(
  options: StepKindOptions,
  ctx: StepRunContext,
  action: Extract<PreparedAction, { kind: "action" }>,
  stepId: string,
  entry: string,
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
): Promise<StepProcessResult> {
  const actionEnv = {
    GITHUB_ACTION_PATH: action.guestDir,
    ...(action.repository ? { GITHUB_ACTION_REPOSITORY: action.repository } : {}),
    ...(action.ref ? { GITHUB_ACTION_REF: action.ref } : {}),
  };
  const env = processEnv(
    { ...ctx.scope.env, ...ctx.stepEnv, ...inputEnv(inputs), ...extraEnv },
    options.defaultEnv(stepId, actionEnv),
    ctx.scope.path,
  );
  return runStepProcess(io(options, ctx), {
    name: stepId,
    argv: [GUEST_NODE, path.posix.join(action.guestDir, entry)],
    env,
    cwd: options.layout.workspace,
    ...(ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
}

/** The `pre` of a JavaScript action step (remote actions only: local ones have it dropped). */
export function preStepOf(options: StepKindOptions, step: WorkflowStep): PostStep | undefined {
  if (step.kind !== "uses") return undefined;
  const action = options.actions.get(step.uses);
  if (action?.kind !== "action" || action.metadata.runs.using !== "node") return undefined;
  const { pre, preIf } = action.metadata.runs;
  if (!pre) return undefined;
  return {
    name: `Pre ${step.uses}`,
    condition: preIf,
    run: (ctx) => {
      const contexts = contextsFor(ctx.base, ctx.scope);
      const inputs = actionInputs(action.metadata, step.with, contexts, ctx);
      return runNode(options, ctx, action, step.id, pre, inputs).then((r) => {
        options.savedState?.set(step.id, { ...r.state });
        return r;
      });
    },
  };
}

export function createStepRunner(options: StepKindOptions): StepRunner {
  return async (step: WorkflowStep, ctx: StepRunContext) => {
    if (step.kind === "run") return runScript(options, ctx, step, {}, ctx.inComposite !== true);
    const action = options.actions.get(step.uses);
    if (!action)
      throw new SandboxedError("SBX_ENGINE_INTERNAL", `action ${step.uses} was not prepared`, {
        hint: "this is a bug in sandboxed: please report it with the workflow",
      });
    if (action.kind === "checkout") {
      ctx.line(
        "stdout",
        `actions/checkout: the working tree at ${options.sha.slice(0, 12)} is already in ${options.layout.workspace} (copied from your checkout, .gitignore respected)`,
      );
      return undefined;
    }
    const contexts = contextsFor(ctx.base, ctx.scope, { env: ctx.stepEnv });
    const inputs = actionInputs(action.metadata, step.with, contexts, ctx);
    for (const w of action.metadata.warnings)
      ctx.annotate({ level: "warning", message: w, origin: "runner" });
    const runs = action.metadata.runs;
    if (runs.using === "composite") return options.runComposite(action, inputs, ctx);
    // GITHUB_STATE saved by the action's pre reaches its main; main's and pre's reach its post.
    const saved = options.savedState?.get(step.id) ?? {};
    const stateEnv = (st: Record<string, string>) =>
      Object.fromEntries(Object.entries(st).map(([k, v]) => [`STATE_${k}`, v]));
    const result = await runNode(options, ctx, action, step.id, runs.main, inputs, stateEnv(saved));
    if (runs.post) {
      const post = runs.post;
      const state = stateEnv({ ...saved, ...result.state });
      ctx.addPost({
        name: `Post ${step.uses}`,
        condition: runs.postIf,
        run: (postCtx) => runNode(options, postCtx, action, step.id, post, inputs, state),
      });
    }
    return result;
  };
}
