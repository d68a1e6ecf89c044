/**
 * Loads one workflow file into a typed, readonly model, or throws one WorkflowError carrying every
 * problem found (STYLE H7): parser errors, converter errors, and what this engine refuses to run.
 *
 * The parser (@actions/workflow-parser 0.3.61) validates the schema and expressions; the converter
 * validates ids and the needs graph. The model itself is read from the raw token tree, because the
 * converter drops keys we need (research G3: `with`, `shell`, `defaults`, `timeout-minutes` …) and
 * drops a whole step whose `env` is one expression (G8c).
 */
import {
  convertWorkflowTemplate,
  NoOperationTraceWriter,
  parseWorkflow,
} from "@actions/workflow-parser";
import { isMapping, isSequence, isString } from "@actions/workflow-parser";
import { convertToIfCondition } from "@actions/workflow-parser/model/converter/if-condition";
import { IdBuilder } from "@actions/workflow-parser/model/converter/id-builder";
import type { TemplateContext } from "@actions/workflow-parser/templates/template-context";
import type { TemplateValidationError } from "@actions/workflow-parser/templates/template-validation-error";
import type {
  MappingToken,
  ScalarToken,
  TemplateToken,
} from "@actions/workflow-parser/templates/tokens/index";
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";
import { findNeedsCycle } from "./plan.js";
import { checkJobRefusals, checkShell, checkStep, readTimeout } from "./workflow-checks.js";
import type { Refusal } from "./workflow-checks.js";
import type { ActionUses } from "./action-ref.js";

/** One problem in a workflow file; the CLI prints `file:line:col error message` then the hint. */
export interface WorkflowDiagnostic extends SourceRef {
  readonly message: string;
  readonly hint: string | undefined;
}

/** `defaults.run` of a workflow or job; values stay tokens (job defaults may hold expressions). */
export interface RunDefaults {
  readonly shell: TemplateToken | undefined;
  readonly workingDirectory: TemplateToken | undefined;
}

interface StepCommon {
  /** The user's `id`, or the generated `__run`, `__run_2`, `__actions_checkout` … */
  readonly id: string;
  readonly name: ScalarToken | undefined;
  /** The condition with its status function made explicit: `success() && (…)`. */
  readonly if: string;
  readonly env: TemplateToken | undefined;
  /** A literal, or the token when it is an expression (evaluate it when the step starts). */
  readonly continueOnError: boolean | TemplateToken;
  readonly timeoutMinutes: number | TemplateToken | undefined;
  readonly source: SourceRef;
}

export interface RunStep extends StepCommon {
  readonly kind: "run";
  /** A StringToken, or a BasicExpressionToken whose expression is a `format(…)` call. */
  readonly run: ScalarToken;
  readonly shell: TemplateToken | undefined;
  readonly workingDirectory: TemplateToken | undefined;
}

export interface UsesStep extends StepCommon {
  readonly kind: "uses";
  /** As written, e.g. `actions/setup-node@v4`. */
  readonly uses: string;
  /** Parsed by action-ref.ts; `actions/checkout` is its own kind there. */
  readonly action: ActionUses;
  readonly with: TemplateToken | undefined;
}

export type WorkflowStep = RunStep | UsesStep;

export interface JobNeed {
  /** The needed job's id as the workflow spells it on the job (needs match case-insensitively). */
  readonly id: string;
  readonly source: SourceRef;
}

export interface WorkflowJob {
  readonly id: string;
  readonly name: ScalarToken | undefined;
  readonly needs: readonly JobNeed[];
  readonly if: string;
  /** Raw; evaluate with evaluateToken, then expandMatrix. */
  readonly strategy: TemplateToken | undefined;
  /** Recorded only: a local run ignores labels. */
  readonly runsOn: TemplateToken | undefined;
  readonly env: TemplateToken | undefined;
  readonly defaults: RunDefaults;
  readonly timeoutMinutes: number | TemplateToken | undefined;
  readonly continueOnError: boolean | TemplateToken;
  readonly outputs: TemplateToken | undefined;
  readonly steps: readonly WorkflowStep[];
  readonly source: SourceRef;
}

export interface LoadedWorkflow {
  readonly file: string;
  /** `name:`, or undefined (GITHUB_WORKFLOW is then the file path). */
  readonly name: string | undefined;
  readonly env: TemplateToken | undefined;
  readonly defaults: RunDefaults;
  /** In file order. */
  readonly jobs: readonly WorkflowJob[];
}

const SYNTAX_HINT =
  "see https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";

/** SBX_ENGINE_WORKFLOW_INVALID with every diagnostic; `message` lists them all. */
export class WorkflowError extends SandboxedError {
  readonly diagnostics: readonly WorkflowDiagnostic[];
  constructor(file: string, diagnostics: readonly WorkflowDiagnostic[]) {
    const first = diagnostics[0];
    const count = `${diagnostics.length} error${diagnostics.length === 1 ? "" : "s"}`;
    const lines = diagnostics.map(
      (d) =>
        `  ${d.file}:${d.line}:${d.col} error ${d.message}` +
        (d.hint ? `\n    hint: ${d.hint}` : ""),
    );
    super("SBX_ENGINE_WORKFLOW_INVALID", `${file}: ${count}\n${lines.join("\n")}`, {
      hint: first?.hint ?? SYNTAX_HINT,
      ...(first ? { source: { file: first.file, line: first.line, col: first.col } } : {}),
    });
    this.diagnostics = diagnostics;
  }
}

/**
 * Converter errors we replace with our own checks: needs are matched case-insensitively as on
 * GitHub (G8a, the converter matches case-sensitively and then also reports a bogus cycle), and an
 * `env` that is one expression is valid (G8c).
 */
const REPLACED_CONVERTER_ERRORS = [
  /depends on unknown job '/,
  /which creates a cycle in the dependency graph\.$/,
  /^The workflow must contain at least one job with no dependencies\.$/,
  /^Unexpected type 'BasicExpressionToken' encountered while reading '(job|step) env'/,
];

export async function loadWorkflow(file: string, content: string): Promise<LoadedWorkflow> {
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  const diagnostics: WorkflowDiagnostic[] = parsed.context.errors
    .getErrors()
    .map((e) => fromParserError(file, e));
  const root = parsed.value;
  if (diagnostics.length === 0 && root !== undefined) {
    const before = parsed.context.errors.count;
    try {
      await convertWorkflowTemplate(parsed.context, root);
    } catch (error) {
      // The converter is pre-1.0 and has thrown on valid input before (G8b).
      diagnostics.push(at(file, 1, 1, `workflow-parser failed: ${String(error)}`, SYNTAX_HINT));
    }
    for (const e of parsed.context.errors.getErrors().slice(before)) {
      if (!REPLACED_CONVERTER_ERRORS.some((re) => re.test(e.rawMessage)))
        diagnostics.push(fromParserError(file, e));
    }
  }
  if (root === undefined || !isMapping(root)) {
    throw new WorkflowError(file, sortDiagnostics(diagnostics));
  }
  const workflow = readWorkflow(file, root, parsed.context, diagnostics);
  if (diagnostics.length > 0) throw new WorkflowError(file, sortDiagnostics(diagnostics));
  return workflow;
}

function readWorkflow(
  file: string,
  root: MappingToken,
  context: TemplateContext,
  diagnostics: WorkflowDiagnostic[],
): LoadedWorkflow {
  const report = (r: Refusal): void => {
    diagnostics.push(at(file, r.token.line ?? 1, r.token.col ?? 1, r.message, r.hint));
  };
  const name = root.find("name");
  const defaults = readDefaults(root.find("defaults"));
  for (const r of checkShell(defaults.shell)) report(r);
  const jobsToken = root.find("jobs");
  const jobs: WorkflowJob[] = [];
  // Refused jobs (reusable workflows) are left out of the model, but needing one is no new error.
  const refused = new Set<string>();
  if (jobsToken !== undefined && isMapping(jobsToken)) {
    for (const { key, value } of jobsToken) {
      if (!isMapping(value)) continue;
      const job = readJob(file, key.toString(), key, value, context, report);
      if (job) jobs.push(job);
      else refused.add(key.toString().toLowerCase());
    }
  }
  resolveNeeds(jobs, refused, diagnostics);
  return {
    file,
    name: name !== undefined && isString(name) ? name.value : undefined,
    env: root.find("env"),
    defaults,
    jobs,
  };
}

function readJob(
  file: string,
  id: string,
  key: TemplateToken,
  job: MappingToken,
  context: TemplateContext,
  report: (r: Refusal) => void,
): WorkflowJob | undefined {
  const defaults = readDefaults(job.find("defaults"));
  for (const r of [...checkJobRefusals(id, job), ...checkShell(defaults.shell)]) report(r);
  if (job.find("uses") !== undefined) return undefined;
  const timeout = readTimeout(job.find("timeout-minutes"), undefined);
  if (timeout.refusal) report(timeout.refusal);
  const stepsToken = job.find("steps");
  const steps =
    stepsToken !== undefined && isSequence(stepsToken)
      ? readSteps(file, [...stepsToken].filter(isMapping), context, report)
      : [];
  return {
    id,
    name: scalar(job.find("name")),
    needs: readNeeds(file, job.find("needs")),
    if: readIf(context, job.find("if")),
    strategy: job.find("strategy"),
    runsOn: job.find("runs-on"),
    env: job.find("env"),
    defaults,
    timeoutMinutes: timeout.value,
    continueOnError: readBoolean(job.find("continue-on-error")),
    outputs: job.find("outputs"),
    steps,
    source: pos(file, key),
  };
}

function readSteps(
  file: string,
  mappings: readonly MappingToken[],
  context: TemplateContext,
  report: (r: Refusal) => void,
): WorkflowStep[] {
  // Same ids as the converter (model/converter/steps.ts): user ids are reserved first, then the
  // steps without one get `__<action>` / `__run` in order, deduplicated with `_2`, `_3` …
  const ids = new IdBuilder();
  for (const m of mappings) {
    const id = m.find("id");
    if (id !== undefined && isString(id)) ids.tryAddKnownId(id.value);
  }
  const steps: WorkflowStep[] = [];
  for (const m of mappings) {
    const idToken = m.find("id");
    const usesToken = m.find("uses");
    const runToken = scalar(m.find("run"));
    const uses = usesToken !== undefined && isString(usesToken) ? usesToken : undefined;
    const checked = checkStep(m, uses, pos(file, uses ?? m));
    for (const r of checked.refusals) report(r);
    let id = idToken !== undefined && isString(idToken) ? idToken.value : "";
    if (!id) {
      ids.appendSegment(`__${uses ? generatedActionId(uses.value) || "run" : "run"}`);
      id = ids.build();
    }
    const timeout = readTimeout(m.find("timeout-minutes"), 360);
    if (timeout.refusal) report(timeout.refusal);
    const common: StepCommon = {
      id,
      name: scalar(m.find("name")),
      if: readIf(context, m.find("if")),
      env: m.find("env"),
      continueOnError: readBoolean(m.find("continue-on-error")),
      timeoutMinutes: timeout.value,
      source: pos(file, m),
    };
    if (runToken !== undefined) {
      steps.push({
        ...common,
        kind: "run",
        run: runToken,
        shell: m.find("shell"),
        workingDirectory: m.find("working-directory"),
      });
    } else if (checked.uses !== undefined) {
      const action = checked.uses;
      steps.push({ ...common, kind: "uses", uses: action.uses, action, with: m.find("with") });
    }
  }
  return steps;
}

/** As the converter's createActionStepId: `docker://alpine` → `alpine`, `./x` → `self`, `o/r@v` → `o/r`. */
function generatedActionId(uses: string): string {
  if (uses.startsWith("docker://")) return uses.slice("docker://".length);
  if (uses.startsWith("./") || uses.startsWith(".\\") || uses.startsWith("$/")) return "self";
  const segments = uses.split("@");
  if (segments.length !== 2 || !segments[1]) return "";
  const path = (segments[0] ?? "").split(/[\\/]/).filter((s) => s.length > 0);
  return path.length >= 2 ? `${path[0]}/${path[1]}` : "";
}

function readNeeds(file: string, token: TemplateToken | undefined): JobNeed[] {
  if (token === undefined) return [];
  const items = isSequence(token) ? [...token] : [token];
  return items.filter(isString).map((t) => ({ id: t.value, source: pos(file, t) }));
}

/**
 * Resolves each need to the job's own spelling, case-insensitively as GitHub does (G8a), and
 * reports unknown needs and cycles (the converter's versions of both are dropped above).
 */
function resolveNeeds(
  jobs: WorkflowJob[],
  refused: ReadonlySet<string>,
  diagnostics: WorkflowDiagnostic[],
): void {
  const byLower = new Map(jobs.map((j) => [j.id.toLowerCase(), j.id]));
  const ids = jobs.map((j) => j.id).join(", ");
  for (const [index, job] of jobs.entries()) {
    const needs: JobNeed[] = [];
    for (const need of job.needs) {
      const id = byLower.get(need.id.toLowerCase());
      if (id !== undefined) needs.push({ id, source: need.source });
      else if (!refused.has(need.id.toLowerCase()))
        diagnostics.push({
          ...need.source,
          message: `job '${job.id}' needs unknown job '${need.id}'`,
          hint: `needs one of: ${ids}`,
        });
    }
    jobs[index] = { ...job, needs };
  }
  const cycle = findNeedsCycle(jobs);
  if (cycle !== undefined) {
    const first = cycle[0]!;
    diagnostics.push({
      ...first.source,
      message: `needs form a cycle: ${cycle.map((n) => n.from).join(" → ")} → ${first.from}`,
      hint: `remove one of these needs: ${cycle.map((n) => `${n.from} needs ${n.id}`).join("; ")}`,
    });
  }
}

function readIf(context: TemplateContext, token: TemplateToken | undefined): string {
  if (token === undefined) return "success()";
  // Same wrapping as the converter: a condition without a status function means success() && (…).
  return convertToIfCondition(context, token)?.expression ?? "success()";
}

function readDefaults(token: TemplateToken | undefined): RunDefaults {
  const run = token !== undefined && isMapping(token) ? token.find("run") : undefined;
  if (run === undefined || !isMapping(run))
    return { shell: undefined, workingDirectory: undefined };
  return { shell: run.find("shell"), workingDirectory: run.find("working-directory") };
}

function readBoolean(token: TemplateToken | undefined): boolean | TemplateToken {
  if (token === undefined) return false;
  return token.isLiteral ? token.toString() === "true" : token;
}

function scalar(token: TemplateToken | undefined): ScalarToken | undefined {
  return token?.isScalar ? (token as ScalarToken) : undefined;
}

function pos(file: string, token: TemplateToken): SourceRef {
  return { file, line: token.line ?? 1, col: token.col ?? 1 };
}

function at(file: string, line: number, col: number, message: string, hint?: string) {
  return { file, line, col, message, hint };
}

function fromParserError(file: string, e: TemplateValidationError): WorkflowDiagnostic {
  // Messages look like `ci.yml (Line: 7, Col: 12): …`; the range, when set, says the same.
  const m = /\(Line: (\d+), Col: (\d+)\)/.exec(e.prefix ?? "");
  const line = e.range?.start.line ?? (m ? Number(m[1]) : 1);
  const col = e.range?.start.column ?? (m ? Number(m[2]) : 1);
  return at(file, line, col, e.rawMessage, parserHint(e.rawMessage));
}

function parserHint(message: string): string {
  // G8b: a bare number as a mapping key (a matrix `4:`) crashes the parser's reader.
  if (message.includes("raw.indexOf is not a function"))
    return "quote mapping keys that are numbers: '4': instead of 4:";
  if (message.startsWith("Unrecognized named-value") || message.startsWith("Unrecognized function"))
    return "see which contexts and functions each key allows: https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#context-availability";
  return SYNTAX_HINT;
}

function sortDiagnostics(d: readonly WorkflowDiagnostic[]): WorkflowDiagnostic[] {
  return [...d].sort((a, b) => a.line - b.line || a.col - b.col);
}
