/**
 * What the engine refuses to run, checked on the raw token tree before any sandbox starts, plus the
 * checks the TypeScript parser skips (research G7: `uses:` syntax, timeout ranges). Pure: each
 * check returns the problems with the token to point at; workflow.ts turns them into diagnostics.
 */
import { isNumber, isString } from "@actions/workflow-parser";
import type {
  MappingToken,
  StringToken,
  TemplateToken,
} from "@actions/workflow-parser/templates/tokens/index";
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";
import { parseUses } from "./action-ref.js";
import type { ActionUses } from "./action-ref.js";
import { shellCommand } from "./shells.js";

export interface Refusal {
  readonly token: TemplateToken;
  readonly message: string;
  readonly hint: string;
}

const CONTAINER_HINT =
  "not supported yet: run the job without container/services, or use a step that starts the service itself";

/** A literal `shell:` the engine refuses: pwsh/powershell/cmd, or a template without `{0}` (shells.ts). */
export function checkShell(token: TemplateToken | undefined): Refusal[] {
  if (token === undefined || !isString(token)) return [];
  try {
    shellCommand(token.value, "script");
    return [];
  } catch (error) {
    return [refusal(token, error)];
  }
}

/**
 * Job keys the engine refuses: `container:`, `services:` and `uses:` (a reusable workflow).
 * `runs-on` is accepted whatever it says: a local run ignores labels.
 */
export function checkJobRefusals(id: string, job: MappingToken): Refusal[] {
  const refusals: Refusal[] = [];
  for (const { key, value } of job) {
    switch (key.toString()) {
      case "container":
      case "services":
        refusals.push({
          token: key,
          message: `job '${id}': ${key.toString()}: is not supported yet`,
          hint: CONTAINER_HINT,
        });
        break;
      case "uses":
        refusals.push({
          token: key,
          message: `job '${id}' calls the reusable workflow '${value.toString()}'; reusable workflows are not supported yet`,
          hint: "copy the called workflow's jobs into this file, or run the called workflow on its own",
        });
        break;
    }
  }
  return refusals;
}

/**
 * A step's `uses:` parsed by action-ref.ts, which refuses `docker://` and remote actions without
 * `@ref` (accepted by 0.3.61: G7), and its literal `shell:`.
 */
export function checkStep(
  step: MappingToken,
  uses: StringToken | undefined,
  source: SourceRef,
): { uses: ActionUses | undefined; refusals: Refusal[] } {
  const refusals = checkShell(step.find("shell"));
  if (uses === undefined) return { uses: undefined, refusals };
  try {
    return { uses: parseUses(uses.value, source), refusals };
  } catch (error) {
    return { uses: undefined, refusals: [...refusals, refusal(uses, error)] };
  }
}

function refusal(token: TemplateToken, error: unknown): Refusal {
  if (!(error instanceof SandboxedError)) throw error;
  return { token, message: error.message, hint: error.hint ?? "" };
}

/**
 * `timeout-minutes`: a literal must be a positive number, at most `max` (360 for steps, per
 * https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepstimeout-minutes).
 * An expression is returned as its token, to be evaluated and checked with checkTimeoutMinutes.
 */
export function readTimeout(
  token: TemplateToken | undefined,
  max: number | undefined,
): { value: number | TemplateToken | undefined; refusal?: Refusal } {
  if (token === undefined) return { value: undefined };
  if (token.isExpression) return { value: token };
  const value = isNumber(token) ? token.value : Number.NaN;
  const problem = timeoutProblem(isNumber(token) ? value : token.toString(), max);
  return problem ? { value: undefined, refusal: { token, ...problem } } : { value };
}

export function timeoutProblem(
  value: unknown,
  max: number | undefined,
): { message: string; hint: string } | undefined {
  if (typeof value === "number" && value > 0 && (max === undefined || value <= max)) return;
  const range = max === undefined ? "a positive number" : `a number from 1 to ${max}`;
  return {
    message: `timeout-minutes must be ${range}, not ${JSON.stringify(value)}`,
    hint: `e.g. timeout-minutes: ${Math.min(30, max ?? 30)}`,
  };
}
