/**
 * Expression evaluation on @actions/expressions (its Lexer, Parser and Evaluator; nothing here
 * evaluates operators itself), plus what the library leaves to the runner (research §1.4):
 * a template-token walker (G1), the status functions and hashFiles (G4), every context always
 * present (G5), and a case-sensitive `env` (G6).
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
 */
import { data, Evaluator, Lexer, Parser } from "@actions/expressions";
import type { FunctionDefinition } from "@actions/expressions/funcs/info";
import { truthy } from "@actions/expressions/result";
import type {
  BasicExpressionToken,
  BooleanToken,
  MappingToken,
  NumberToken,
  SequenceToken,
  StringToken,
  TemplateToken,
} from "@actions/workflow-parser/templates/tokens/index";
import { TokenType } from "@actions/workflow-parser/templates/tokens/types";
import { SandboxedError } from "../errors/index.js";
import { blockScalarText, substituteExpressions } from "./block-scalar.js";
import type { BlockScalarExpression } from "./block-scalar.js";
import type { SourceRef } from "../errors/index.js";
import type { JobResult } from "./types.js";

export type { JobResult } from "./types.js";

/** Every context a workflow expression may name; each is always present when evaluating (G5). */
export const CONTEXT_NAMES = [
  "github",
  "env",
  "vars",
  "secrets",
  "inputs",
  "matrix",
  "strategy",
  "needs",
  "steps",
  "job",
  "runner",
  "jobs",
] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];
/** Plain JSON-like values; an absent context evaluates as an empty mapping. */
export type Contexts = Readonly<Partial<Record<ContextName, unknown>>>;

/**
 * What the status functions read
 * (https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions).
 * Step level: the job's status so far. Job level: the results of every ancestor job, transitive
 * (plan.ts ancestorsOf), and whether the run was cancelled.
 */
export type StatusContext =
  | { readonly level: "step"; readonly jobStatus: "success" | "failure" | "cancelled" }
  | {
      readonly level: "job";
      readonly cancelled: boolean;
      readonly ancestors: Readonly<Record<string, JobResult>>;
    };

export interface EvaluateOptions {
  /** Enables success(), failure(), cancelled() and always(); without it they are errors. */
  readonly status?: StatusContext;
  /** Enables hashFiles(); the runner hashes the workspace (hash-files.ts hashFilesOnHost). */
  readonly hashFiles?: (patterns: readonly string[]) => string;
  /** The workflow file, so errors in tokens point at file:line:col. */
  readonly file?: string;
  /** Where the expression is written (evaluateExpression; tokens carry their own position). */
  readonly source?: SourceRef;
}

const DOCS = "https://docs.github.com/en/actions/reference/workflows-and-actions/expressions";
const MAX_ARGS = 255;

export function evaluateExpression(
  expression: string,
  contexts: Contexts,
  options: EvaluateOptions = {},
): unknown {
  return toPlain(evaluateData(expression, contexts, options));
}

/** An `if:` (already `success() && (…)`-wrapped by loadWorkflow) to a boolean, by GitHub truthiness. */
export function evaluateCondition(
  condition: string,
  contexts: Contexts,
  status: StatusContext,
  options: Omit<EvaluateOptions, "status"> = {},
): boolean {
  return truthy(evaluateData(condition, contexts, { ...options, status }));
}

/**
 * A template token to plain values (G1): literals as they are, `${{ }}` evaluated (a string with
 * embedded expressions is one `format(…)` expression already), mappings and sequences walked,
 * evaluated keys coerced to strings, and `${{ insert }}` keys merging the mapping they evaluate to.
 */
export function evaluateToken(
  token: TemplateToken,
  contexts: Contexts,
  options: EvaluateOptions = {},
): unknown {
  switch (token.templateTokenType as TokenType) {
    case TokenType.Null:
      return null;
    case TokenType.String:
      return (token as StringToken).value;
    case TokenType.Number:
      return (token as NumberToken).value;
    case TokenType.Boolean:
      return (token as BooleanToken).value;
    case TokenType.Sequence:
      return [...(token as SequenceToken)].map((t) => evaluateToken(t, contexts, options));
    case TokenType.BasicExpression: {
      const source = sourceOf(token, options);
      const block = blockScalarText(token as BlockScalarExpression);
      if (block !== undefined) {
        const expressions = (token as BlockScalarExpression).originalExpressions ?? [];
        return substituteExpressions(
          block,
          expressions.map((e) => e.expression),
          (e) => coerceToString(evaluateExpression(e, contexts, { ...options, source })),
        );
      }
      return evaluateExpression((token as BasicExpressionToken).expression, contexts, {
        ...options,
        source,
      });
    }
    case TokenType.InsertExpression:
      throw expressionError("insert", "${{ insert }} is allowed only as a mapping key", {
        ...options,
        source: sourceOf(token, options),
      });
    case TokenType.Mapping: {
      const out: Record<string, unknown> = {};
      for (const { key, value } of token as MappingToken) {
        const evaluated = evaluateToken(value, contexts, options);
        if (key.templateTokenType === TokenType.InsertExpression) {
          if (!isRecord(evaluated)) {
            throw expressionError("insert", "${{ insert }} needs a mapping as its value", {
              ...options,
              source: sourceOf(value, options),
            });
          }
          for (const [k, v] of Object.entries(evaluated)) setKey(out, k, v);
        } else {
          const name = key.isExpression
            ? coerceToString(evaluateToken(key, contexts, options))
            : key.toString();
          setKey(out, name, evaluated);
        }
      }
      return out;
    }
  }
}

/**
 * GitHub's string coercion (the library's coerceString): null → '', booleans → 'true'/'false',
 * numbers without trailing zeros (at most 15 digits), mappings → 'Object', sequences → 'Array'.
 */
export function coerceToString(value: unknown): string {
  return toData(value).coerceString();
}

function evaluateData(expression: string, contexts: Contexts, options: EvaluateOptions) {
  // The parser takes the definitions as FunctionInfo; the evaluator looks them up by lower-case name.
  const functions = functionDefinitions(options);
  let tree;
  try {
    tree = new Parser(new Lexer(expression).lex().tokens, [...CONTEXT_NAMES], functions).parse();
  } catch (error) {
    throw expressionError(expression, message(error), options, parseHint(error, options), error);
  }
  const dictionary = new data.Dictionary(
    ...CONTEXT_NAMES.map((name) => ({
      key: name,
      value:
        name === "env"
          ? caseSensitive(contexts.env)
          : contexts[name] === undefined
            ? new data.Dictionary()
            : toData(contexts[name]),
    })),
  );
  const implementations = new Map(functions.map((f) => [f.name.toLowerCase(), f] as const));
  try {
    return new Evaluator(tree, dictionary, implementations).evaluate();
  } catch (error) {
    if (error instanceof SandboxedError) throw error;
    const hint = error instanceof HintedError ? error.hint : `see ${DOCS}`;
    throw expressionError(expression, message(error), options, hint, error);
  }
}

function functionDefinitions(options: EvaluateOptions): FunctionDefinition[] {
  const defs: FunctionDefinition[] = [];
  const status = options.status;
  if (status !== undefined) {
    // Step level takes no arguments; job level takes job ids: success('build', 'test').
    const maxArgs = status.level === "job" ? MAX_ARGS : 0;
    const fn = (
      name: string,
      call: (ids: string[]) => boolean,
      max = maxArgs,
    ): FunctionDefinition => ({
      name,
      minArgs: 0,
      maxArgs: max,
      call: (...args) => new data.BooleanData(call(args.map((a) => a.coerceString()))),
    });
    defs.push(
      fn("success", (ids) => statusOf(status, "success", ids)),
      fn("failure", (ids) => statusOf(status, "failure", ids)),
      fn("cancelled", () => isCancelled(status), 0),
      fn("always", () => true, 0),
    );
  }
  const hashFiles = options.hashFiles;
  if (hashFiles !== undefined) {
    defs.push({
      name: "hashFiles",
      minArgs: 1,
      maxArgs: MAX_ARGS,
      call: (...args) => new data.StringData(hashFiles(args.map((a) => a.coerceString()))),
    });
  }
  return defs;
}

function isCancelled(status: StatusContext): boolean {
  return status.level === "step" ? status.jobStatus === "cancelled" : status.cancelled;
}

/**
 * Step level: the job status. Job level: success() when not cancelled and every ancestor (or each
 * named job) succeeded; failure() when any of them failed. A skipped ancestor is neither, so both
 * are false (research G4).
 */
function statusOf(
  status: StatusContext,
  want: "success" | "failure",
  ids: readonly string[],
): boolean {
  if (status.level === "step") return status.jobStatus === want;
  const ancestors = status.ancestors;
  const known = Object.keys(ancestors);
  const resultOf = (id: string): JobResult => {
    const key = known.find((k) => k.toLowerCase() === id.toLowerCase());
    if (key === undefined) {
      throw new HintedError(
        `${want}('${id}'): '${id}' is not a job this job needs`,
        `add it to needs, or name one of: ${known.join(", ") || "(no needed jobs)"}`,
      );
    }
    return ancestors[key]!;
  };
  const results = ids.length === 0 ? Object.values(ancestors) : ids.map(resultOf);
  if (want === "failure") return results.includes("failure");
  return !status.cancelled && results.every((r) => r === "success");
}

/** Thrown inside a function call; evaluateData names the whole expression around it. */
class HintedError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function parseHint(error: unknown, options: EvaluateOptions): string {
  const text = message(error);
  if (/^Unrecognized function: '(success|failure|cancelled|always)'/i.test(text) && !options.status)
    return "status functions are allowed only in if: conditions";
  if (/^Unrecognized function: 'hashFiles'/i.test(text) && !options.hashFiles)
    return "hashFiles() is available only while a job runs (step keys, not job keys)";
  if (text.startsWith("Unrecognized named-value"))
    return `contexts are: ${CONTEXT_NAMES.join(", ")}`;
  return `see ${DOCS}`;
}

function expressionError(
  expression: string,
  reason: string,
  options: EvaluateOptions,
  hint = `see ${DOCS}`,
  cause?: unknown,
): SandboxedError {
  return new SandboxedError("SBX_ENGINE_EXPRESSION", `\${{ ${expression} }}: ${reason}`, {
    hint,
    ...(options.source ? { source: options.source } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function sourceOf(token: TemplateToken, options: EvaluateOptions): SourceRef | undefined {
  if (token.line === undefined || token.col === undefined) return options.source;
  return { file: options.file ?? options.source?.file ?? "", line: token.line, col: token.col };
}

/** Plain JS to the library's data; `env` goes through caseSensitive instead. */
function toData(value: unknown): data.ExpressionData {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === "string") return new data.StringData(value);
  if (typeof value === "number") return new data.NumberData(value);
  if (typeof value === "boolean") return new data.BooleanData(value);
  if (Array.isArray(value)) return new data.Array(...value.map(toData));
  if (isRecord(value)) {
    return new data.Dictionary(
      ...Object.entries(value).map(([key, v]) => ({ key, value: toData(v) })),
    );
  }
  return new data.StringData(String(value));
}

/**
 * data.Dictionary folds case and keeps the first of two keys that differ only in case; the runner's
 * `env` context on Linux is case-sensitive (CaseSensitiveDictionaryContextData), so `env.foo` and
 * `env.FOO` are two variables (G6).
 */
class CaseSensitiveDictionary extends data.Dictionary {
  readonly #entries = new Map<string, data.ExpressionData>();
  override add(key: string, value: data.ExpressionData): void {
    if (!this.#entries.has(key)) this.#entries.set(key, value);
  }
  override get(key: string): data.ExpressionData | undefined {
    return this.#entries.get(key);
  }
  override values(): data.ExpressionData[] {
    return [...this.#entries.values()];
  }
  override pairs(): { key: string; value: data.ExpressionData }[] {
    return [...this.#entries].map(([key, value]) => ({ key, value }));
  }
}

function caseSensitive(env: unknown): data.Dictionary {
  const dictionary = new CaseSensitiveDictionary();
  if (isRecord(env)) for (const [k, v] of Object.entries(env)) dictionary.add(k, toData(v));
  return dictionary;
}

function toPlain(value: data.ExpressionData): unknown {
  switch (value.kind) {
    case data.Kind.Null:
      return null;
    case data.Kind.String:
    case data.Kind.Boolean:
      return value.value;
    case data.Kind.Number:
      return value.number();
    case data.Kind.Array:
      return value.values().map(toPlain);
    case data.Kind.Dictionary: {
      const out: Record<string, unknown> = {};
      for (const { key, value: v } of (value as data.Dictionary).pairs())
        setKey(out, key, toPlain(v));
      return out;
    }
  }
}

/** Own property even for `__proto__`: keys come from workflow files and step outputs. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
