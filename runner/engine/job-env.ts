/**
 * A job's contexts and environment as the runner layers them
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts):
 *   env context  = workflow env < job env < GITHUB_ENV writes < step env
 *   process env  = the env context, then GitHub's default variables (which a workflow cannot
 *                  override), then PATH with GITHUB_PATH entries first.
 * Env values are merged in plain JS, case-sensitive as on Linux (research G6).
 */
import type { Contexts, StatusContext } from "./expressions.js";
import { coerceToString, evaluateToken } from "./expressions.js";
import type { EvaluateOptions } from "./expressions.js";
import { composePath } from "./env-files.js";
import type { TemplateToken } from "@actions/workflow-parser/templates/tokens/index";

export const GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface StepState {
  readonly outputs: Readonly<Record<string, string>>;
  readonly outcome: string;
  readonly conclusion: string;
}

/** The mutable part of a running job: what earlier steps changed for later ones. */
export interface JobScope {
  env: Record<string, string>;
  path: string[];
  steps: Record<string, StepState>;
  status: "success" | "failure" | "cancelled";
}

export interface ContextBase {
  readonly github: Readonly<Record<string, unknown>>;
  readonly vars: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly matrix: Readonly<Record<string, unknown>>;
  readonly strategy: Readonly<Record<string, unknown>>;
  readonly needs: Readonly<Record<string, unknown>>;
  readonly runner: Readonly<Record<string, unknown>>;
  readonly job: Readonly<Record<string, unknown>>;
}

export function contextsFor(
  base: ContextBase,
  scope: JobScope,
  extra: { readonly env?: Readonly<Record<string, string>>; readonly inputs?: unknown } = {},
): Contexts {
  return {
    github: base.github,
    vars: base.vars,
    secrets: base.secrets,
    inputs: extra.inputs ?? base.inputs,
    matrix: base.matrix,
    strategy: base.strategy,
    needs: base.needs,
    runner: base.runner,
    job: { ...base.job, status: scope.status },
    steps: scope.steps,
    env: { ...scope.env, ...(extra.env ?? {}) },
  };
}

/** An `env:` mapping token to strings; each value sees the env context built so far. */
export function evaluateEnv(
  token: TemplateToken | undefined,
  contexts: Contexts,
  options: EvaluateOptions,
): Record<string, string> {
  if (!token) return {};
  const value = evaluateToken(token, contexts, options);
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, coerceToString(v)]),
  );
}

export function stepStatus(scope: JobScope): StatusContext {
  return { level: "step", jobStatus: scope.status };
}

/** What a step's process gets: env context, defaults on top, PATH composed. */
export function processEnv(
  envContext: Readonly<Record<string, string>>,
  defaults: Readonly<Record<string, string>>,
  prepended: readonly string[],
): Record<string, string> {
  // GitHub lets a workflow set CI (default-env.ts); every other default wins over env.
  const env: Record<string, string> = {
    ...envContext,
    ...defaults,
    ...(envContext.CI === undefined ? {} : { CI: envContext.CI }),
  };
  env.PATH = composePath(prepended, envContext.PATH ?? GUEST_PATH);
  return env;
}
