/**
 * Reads an action's metadata file (action.yml / action.yaml) into a typed, readonly model, with
 * every diagnostic as file:line:col (STYLE H7).
 * https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax
 *
 * Why not `parseAction` as is: it reads with the parser's *strict* root (`action-root-strict`, the
 * editor schema), which requires `description`, rejects unknown keys and `using: Node20`. The
 * runner loads with the lenient `action-root` of the same schema file (its action_yaml.json) and
 * runs such actions, so we do what parseAction does with that root instead, reuse
 * `convertActionTemplate` for inputs, outputs and composite steps, and read `runs` as the runner
 * does (ActionManifestManager.ConvertRuns).
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { NoOperationTraceWriter, isMapping, isSequence, isString } from "@actions/workflow-parser";
import { getActionSchema } from "@actions/workflow-parser/actions/action-schema";
import { convertActionTemplate } from "@actions/workflow-parser/actions/action-template";
import type { Step } from "@actions/workflow-parser/model/workflow-template";
import {
  TemplateContext,
  TemplateValidationErrors,
} from "@actions/workflow-parser/templates/template-context";
import { readTemplate } from "@actions/workflow-parser/templates/template-reader";
import { DefinitionInfo } from "@actions/workflow-parser/templates/schema/definition-info";
import {
  ExpressionToken,
  MappingToken,
  StringToken,
} from "@actions/workflow-parser/templates/tokens/index";
import type { ScalarToken, TemplateToken } from "@actions/workflow-parser/templates/tokens/index";
import { YamlObjectReader } from "@actions/workflow-parser/workflows/yaml-object-reader";
import { SandboxedError } from "../errors/index.js";
import type { SourceRef } from "../errors/index.js";

export interface ActionInput {
  readonly id: string;
  readonly description?: string;
  /** `required: true` is advisory on GitHub: a missing input is not an error by itself. */
  readonly required: boolean;
  /** May hold an expression (github, …); evaluated when the step runs. */
  readonly default?: ScalarToken;
  readonly deprecationMessage?: string;
}

export interface ActionOutput {
  readonly id: string;
  readonly description?: string;
  /** Composite actions only: the expression that maps a step output to this output. */
  readonly value?: ScalarToken;
}

export type NodeVersion = "node12" | "node16" | "node20" | "node24";

export interface NodeRuns {
  readonly using: "node";
  /** What action.yml says. */
  readonly declared: NodeVersion;
  /**
   * What runs it. GitHub now runs every JavaScript action on Node 24 (node12/node16 were moved to
   * node20 in 2024, node20 to node24 from 2 June 2026), so we do too, and warn like it does:
   * https://github.blog/changelog/2025-09-19-deprecation-of-node-20-on-github-actions-runners/
   */
  readonly runtime: "node24";
  readonly main: string;
  /** Dropped, with a warning, for local actions: GitHub does not run `pre` for them. */
  readonly pre?: string;
  readonly preIf: string;
  readonly post?: string;
  readonly postIf: string;
}

export interface CompositeStep {
  readonly source: SourceRef;
  /** The step as written: `with`, `shell` and `working-directory` are only here (G3). */
  readonly token: MappingToken;
  /** The parser's conversion: id, name, if (with success() added), env, run or uses. */
  readonly step: Step;
  readonly uses?: { readonly value: string; readonly source: SourceRef };
}

export interface CompositeRuns {
  readonly using: "composite";
  readonly steps: readonly CompositeStep[];
}

export interface ActionMetadata {
  /** The metadata file on the host. */
  readonly path: string;
  readonly name: string;
  readonly description?: string;
  readonly author?: string;
  readonly inputs: readonly ActionInput[];
  readonly outputs: readonly ActionOutput[];
  readonly runs: NodeRuns | CompositeRuns;
  /** Things GitHub logs as warnings for this action; the caller shows them. */
  readonly warnings: readonly string[];
}

const FILES = ["action.yml", "action.yaml"] as const;
const NODE_VERSIONS: readonly NodeVersion[] = ["node12", "node16", "node20", "node24"];
const SUPPORTED = "'node12', 'node16', 'node20', 'node24' or 'composite'";

/**
 * Loads the action in `dir`. `label` is the step's `uses:` value: it names the action in messages,
 * and a label starting with `./` marks a local action (whose `pre` GitHub does not run).
 */
export async function loadActionMetadata(dir: string, label: string): Promise<ActionMetadata> {
  const local = label.startsWith("./");
  const found = await readFirst(dir, FILES);
  if (found === undefined) {
    if (await exists(path.join(dir, "Dockerfile"))) throw dockerAction(label, undefined);
    // GitHub's words (actions/runner ActionManager), then where we looked.
    throw new SandboxedError(
      "SBX_ENGINE_ACTION_MISSING",
      `Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action '${label}' (looked in ${dir})`,
      {
        hint: local
          ? `Create ${path.posix.join(label, "action.yml")}, or fix the path in uses:`
          : `Check the path after owner/repo in uses: ${label}; the folder must hold action.yml`,
      },
    );
  }
  const display = local ? path.posix.join(label.slice(2), found.name) : `${label}/${found.name}`;
  const context = newContext();
  const fileId = context.getFileId(display);
  const reader = new YamlObjectReader(fileId, found.content);
  for (const error of reader.errors) context.error(fileId, error.message, error.range);
  const root =
    reader.errors.length === 0 ? readTemplate(context, "action-root", reader, fileId) : undefined;
  // The converter gets everything but `runs`: in the lenient tree pre-if and post-if are plain
  // strings with no allowed context, so its check of them would refuse every name.
  const rest = new MappingToken(undefined, undefined, undefined);
  for (const pair of root !== undefined && isMapping(root) ? root : []) {
    if (pair.key.toString() !== "runs") rest.add(pair.key, pair.value);
  }
  const template = convertActionTemplate(context, rest);
  const diagnostics = diagnosticsOf(context, display);
  if (diagnostics.length > 0 || root === undefined || !isMapping(root)) {
    throw invalid(label, diagnostics);
  }
  const warnings: string[] = [];
  const runs = convertRuns(root, { label, local, display, warnings });
  return {
    path: path.join(dir, found.name),
    // `name` is required by the docs but not by the runner; messages then use the label.
    name: template.name ?? label,
    ...(template.description === undefined ? {} : { description: template.description }),
    ...(template.author === undefined ? {} : { author: template.author }),
    inputs: (template.inputs ?? []).map((i) => ({ ...i, required: i.required ?? false })),
    outputs: template.outputs ?? [],
    runs,
    warnings,
  };
}

interface RunsContext {
  readonly label: string;
  readonly local: boolean;
  readonly display: string;
  readonly warnings: string[];
}

/**
 * `runs` as the runner reads it (ActionManifestManager.ConvertRuns): `using` compared without
 * case; docker refused (not supported yet); anything else named with GitHub's message.
 */
function convertRuns(root: MappingToken, ctx: RunsContext): NodeRuns | CompositeRuns {
  const token = root.find("runs");
  if (token === undefined || !isMapping(token)) {
    const message = `Top level 'runs:' section is required for ${ctx.display}`;
    throw invalid(ctx.label, [{ ...sourceOf(ctx.display, token ?? root), message }]);
  }
  const text = (key: string): string | undefined => {
    const value = token.find(key);
    return value !== undefined && isString(value) ? value.value : undefined;
  };
  const usingToken = token.find("using");
  const using = text("using")?.toLowerCase();
  const at = sourceOf(ctx.display, usingToken ?? token);
  if (using === "docker") throw dockerAction(ctx.label, at);
  if (using === "composite") return { using: "composite", steps: compositeSteps(token, ctx) };
  const declared = NODE_VERSIONS.find((v) => v === using);
  if (declared === undefined) {
    const message =
      using === undefined
        ? `Missing 'using' value in ${ctx.display}; 'using' requires ${SUPPORTED}`
        : `'using: ${text("using")}' is not supported, use ${SUPPORTED} instead.`;
    throw new SandboxedError("SBX_ENGINE_ACTION_USING", message, {
      hint: "runs.using: node24 for a JavaScript action, composite for a list of steps",
      source: at,
    });
  }
  const main = text("main");
  if (main === undefined) {
    throw new SandboxedError(
      "SBX_ENGINE_ACTION_USING",
      `Entry javascript file is not provided (runs.main) in ${ctx.display}`,
      { hint: "runs.main: dist/index.js (the file to run, relative to the action)", source: at },
    );
  }
  if (declared !== "node24") {
    ctx.warnings.push(
      `${ctx.label} declares runs.using: ${declared}; it runs on Node.js 24, as on GitHub.`,
    );
  }
  let pre = text("pre");
  if (pre !== undefined && ctx.local) {
    // https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax#runspre
    ctx.warnings.push(`\`pre\` execution is not supported for local action from '${ctx.label}'`);
    pre = undefined;
  }
  const post = text("post");
  // pre-if and post-if default to always() (same page, #runspre-if / #runspost-if); checked here
  // against the strict schema's `runs-if` contexts, since the lenient one has none.
  const allowed = new DefinitionInfo(getActionSchema(), "runs-if").allowedContext;
  const problems = ["pre-if", "post-if"].flatMap((key) => {
    const value = token.find(key);
    if (value === undefined || !isString(value)) return [];
    try {
      ExpressionToken.validateExpression(value.value, allowed);
      return [];
    } catch (error) {
      return [{ ...sourceOf(ctx.display, value), message: (error as Error).message }];
    }
  });
  if (problems.length > 0) throw invalid(ctx.label, problems);
  return {
    using: "node",
    declared,
    runtime: "node24",
    main,
    ...(pre === undefined ? {} : { pre }),
    preIf: text("pre-if") ?? "always()",
    ...(post === undefined ? {} : { post }),
    postIf: text("post-if") ?? "always()",
  };
}

function compositeSteps(runs: MappingToken, ctx: RunsContext): CompositeStep[] {
  const steps = runs.find("steps");
  if (steps === undefined || !isSequence(steps)) return [];
  const tokens = [...steps];
  // The converter makes one Step per mapping with run or uses (the schema insists on one). It only
  // converts steps under `using: composite` spelled exactly so, hence the small root built here.
  const str = (value: string) => new StringToken(undefined, undefined, value, undefined);
  const runsOnly = new MappingToken(undefined, undefined, undefined);
  runsOnly.add(str("using"), str("composite"));
  runsOnly.add(str("steps"), steps);
  const root = new MappingToken(undefined, undefined, undefined);
  root.add(str("runs"), runsOnly);
  const context = newContext();
  const converted = convertActionTemplate(context, root).runs;
  // Only reachable for a `using:` not spelled `composite` (the first pass checked the rest).
  const diagnostics = diagnosticsOf(context, ctx.display);
  if (diagnostics.length > 0) throw invalid(ctx.label, diagnostics);
  const list = converted?.using === "composite" ? converted.steps : [];
  return tokens.map((token, i) => {
    const step = list[i];
    if (!isMapping(token) || step === undefined) throw invalid(ctx.label, []);
    const uses = token.find("uses");
    return {
      source: sourceOf(ctx.display, token),
      token,
      step,
      ...(uses !== undefined && isString(uses)
        ? { uses: { value: uses.value, source: sourceOf(ctx.display, uses) } }
        : {}),
    };
  });
}

/** The runner's caps: 10 errors of at most 500 characters (ActionManifestManager). */
function newContext(): TemplateContext {
  const errors = new TemplateValidationErrors(10, 500);
  return new TemplateContext(errors, getActionSchema(), new NoOperationTraceWriter());
}

interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

function diagnosticsOf(context: TemplateContext, file: string): Diagnostic[] {
  return context.errors.getErrors().map((e) => ({
    file,
    line: e.range?.start.line ?? 1,
    col: e.range?.start.column ?? 1,
    message: e.rawMessage,
  }));
}

function sourceOf(file: string, token: TemplateToken): SourceRef {
  return { file, line: token.range?.start.line ?? 1, col: token.range?.start.column ?? 1 };
}

function invalid(label: string, diagnostics: readonly Diagnostic[]): SandboxedError {
  const lines = diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`);
  const first = diagnostics[0];
  const count = lines.length === 1 ? "1 error" : `${lines.length} errors`;
  return new SandboxedError(
    "SBX_ENGINE_ACTION_INVALID",
    lines.length === 0
      ? `The metadata of action '${label}' is not what the parser promised`
      : `The metadata of action '${label}' has ${count}:\n${lines.join("\n")}`,
    {
      hint: "Fix the file as the first error says; the keys are listed at https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax",
      ...(first === undefined
        ? {}
        : { source: { file: first.file, line: first.line, col: first.col } }),
    },
  );
}

function dockerAction(label: string, source: SourceRef | undefined): SandboxedError {
  return new SandboxedError(
    "SBX_ENGINE_ACTION_DOCKER",
    `Docker container actions are not supported yet: '${label}' is one`,
    {
      hint: "Use a JavaScript or composite action instead, or a run: step that does the same work.",
      ...(source === undefined ? {} : { source }),
    },
  );
}

async function readFirst(
  dir: string,
  names: readonly string[],
): Promise<{ name: string; content: string } | undefined> {
  for (const name of names) {
    try {
      return { name, content: await readFile(path.join(dir, name), "utf8") };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return undefined;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
