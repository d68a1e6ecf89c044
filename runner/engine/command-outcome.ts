/**
 * What the workflow-command processor returns for a line, and the runner's own messages for it.
 * Split from workflow-commands.ts to keep each file to one concern: this one is the result shape,
 * that one the parsing and the state machine.
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 * Messages: actions/runner `src/Runner.Worker/ActionCommandManager.cs` and `src/Runner.Common/Constants.cs`.
 */
import type { Masker } from "./masker.js";

export type AnnotationLevel = "notice" | "warning" | "error";

/** An annotation; every text in it is already masked. */
export interface Annotation {
  readonly level: AnnotationLevel;
  readonly message: string;
  readonly title?: string;
  /** Relative to the workspace when the step named a file inside it, as GitHub shows it. */
  readonly file?: string;
  readonly line?: number;
  readonly endLine?: number;
  readonly col?: number;
  readonly endColumn?: number;
  /** `step`: the step printed `::error::` etc.; `runner`: a message about a command (GitHub's `context.Warning`/`Error`). */
  readonly origin: "step" | "runner";
}

export type GroupMarker =
  { readonly kind: "start"; readonly title: string } | { readonly kind: "end" };

/** Raw (unmasked) values: outputs and state are data, masked only when printed. */
export interface NameValue {
  readonly name: string;
  readonly value: string;
}

/** Problem matchers are not applied by the engine; the change is reported for the runner to log or apply. */
export type MatcherChange =
  | { readonly kind: "add"; readonly file: string }
  | { readonly kind: "remove"; readonly owner: string }
  | { readonly kind: "remove"; readonly file: string };

/**
 * What to do with one output line. Fields that do not apply are absent; `annotations`,
 * `maskAdded` and `failStep` are always present.
 */
export interface LineOutcome {
  /** The line to write to the step log, masked. Absent when the line is consumed (a command with echo off). */
  readonly print?: string;
  /** A `::debug::` message to show as a debug line, masked; present only with step debug on. */
  readonly debug?: string;
  readonly group?: GroupMarker;
  /** Annotations to record and render (`##[error]…` in the log on GitHub). */
  readonly annotations: readonly Annotation[];
  /** `::set-output::` (deprecated, still processed with a warning). */
  readonly output?: NameValue;
  /** `::save-state::`, exposed to the action's post step as `STATE_<name>`. */
  readonly state?: NameValue;
  /** `::set-env::`, only with ACTIONS_ALLOW_UNSECURE_COMMANDS. */
  readonly env?: NameValue;
  /** `::add-path::`, only with ACTIONS_ALLOW_UNSECURE_COMMANDS; apply with `applyPath`. */
  readonly path?: string;
  readonly matcher?: MatcherChange;
  /** True when this line registered a new value with the masker (`::add-mask::`, a stop token). */
  readonly maskAdded: boolean;
  /** The new echo setting after `::echo::on|off`. */
  readonly echo?: boolean;
  /** The command failed: GitHub marks the step failed (`context.CommandResult = Failed`) and runs on. */
  readonly failStep: boolean;
  /** Lower-case name of the command this line was, for tracing; absent for plain output. */
  readonly command?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function outcome(
  fields: Partial<Mutable<LineOutcome>> & { annotations?: readonly Annotation[] },
): LineOutcome {
  return { annotations: [], maskAdded: false, failStep: false, ...fields };
}

const SET_ENV_CHANGELOG =
  "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/";
const SET_OUTPUT_CHANGELOG =
  "https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/";

/** GitHub's wording, kept verbatim so logs and searches match what users know. */
export const GITHUB_MESSAGES = {
  unknownCommand: (name: string) => `Can't find command extension for ##[${name}.command].`,
  unableToProcess: (what: string) => `Unable to process command '${what}' successfully.`,
  stopTokenDisabled:
    "You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command. For more information see: https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands or opt into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.",
  unsecureDisabled: (name: string) =>
    `The \`${name}\` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the \`ACTIONS_ALLOW_UNSECURE_COMMANDS\` environment variable to \`true\`. For more information see: ${SET_ENV_CHANGELOG}`,
  deprecated: (name: string) =>
    `The \`${name}\` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: ${SET_OUTPUT_CHANGELOG}`,
  missingName: (name: string) => `Required field 'name' is missing in ##[${name}] command.`,
  emptyMask: "Can't add secret mask for empty string in ##[add-mask] command.",
  invalidEcho: (value: string) =>
    `Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: '${value}'.`,
  nullArgument: (name: string) => `Value cannot be null. (Parameter '${name}')`,
  setEnvBlocked: "Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
  matcherFile: "File path must be specified.",
  matcherBoth:
    "Either specify an owner name or a file path in ##[remove-matcher] command. Both values cannot be set.",
  matcherNeither:
    "Either an owner name or a file path must be specified in ##[remove-matcher] command.",
} as const;

export function runnerIssue(masker: Masker, level: AnnotationLevel, message: string): Annotation {
  return { level, message: masker.redact(message), origin: "runner" };
}

/**
 * A command whose handler failed: two errors, as the runner writes them, and a failed step.
 * `what` is the line, or only the command name for commands whose data must not be echoed.
 */
export function fail(masker: Masker, what: string, message: string): LineOutcome {
  return outcome({
    annotations: [
      runnerIssue(masker, "error", GITHUB_MESSAGES.unableToProcess(what)),
      runnerIssue(masker, "error", message),
    ],
    failStep: true,
  });
}

/** .NET `int.TryParse`: optional sign and surrounding white space, 32-bit range. */
function parseInt32(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*[+-]?\d+\s*$/.test(text)) return undefined;
  const n = Number(text.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : undefined;
}

interface Position {
  line?: number;
  endLine?: number;
  col?: number;
  endColumn?: number;
}

/**
 * IssueCommandExtension.ValidateLinesAndColumns: `endLine` alone becomes `line`, `endColumn` alone
 * becomes `col`; columns need a line and a single-line range; an end before its start is dropped.
 */
function position(props: Readonly<Record<string, string>>): Position {
  const p: Position = {
    line: parseInt32(props["line"]),
    endLine: parseInt32(props["endline"]),
    col: parseInt32(props["col"]),
    endColumn: parseInt32(props["endcolumn"]),
  };
  const hasColumn = p.col !== undefined || p.endColumn !== undefined;
  if (p.endLine !== undefined && p.line === undefined) p.line = p.endLine;
  if (p.endColumn !== undefined && p.col === undefined) p.col = p.endColumn;
  const dropColumns = () => {
    p.col = undefined;
    p.endColumn = undefined;
  };
  if (p.line === undefined && hasColumn) dropColumns();
  if (p.endLine !== undefined && p.line !== p.endLine && hasColumn) dropColumns();
  if (p.line !== undefined && p.endLine !== undefined && p.endLine < p.line) {
    p.line = undefined;
    p.endLine = undefined;
  }
  if (p.col !== undefined && p.endColumn !== undefined && p.endColumn < p.col) dropColumns();
  return p;
}

function relativeTo(file: string, workspace: string | undefined): string {
  if (workspace === undefined || workspace === "") return file;
  const root = workspace.endsWith("/") ? workspace : `${workspace}/`;
  return file.startsWith(root) && file.length > root.length ? file.slice(root.length) : file;
}

/** `::notice|warning|error file=,line=,endLine=,col=,endColumn=,title=::message`. */
export function annotationFrom(
  masker: Masker,
  level: AnnotationLevel,
  command: { readonly properties: Readonly<Record<string, string>>; readonly data: string },
  workspace: string | undefined,
): Annotation {
  const props = command.properties;
  const at = position(props);
  const file = props["file"];
  const title = props["title"];
  return {
    level,
    message: masker.redact(command.data),
    ...(title !== undefined && title !== "" ? { title: masker.redact(title) } : {}),
    ...(file !== undefined && file !== ""
      ? { file: masker.redact(relativeTo(file, workspace)) }
      : {}),
    ...(at.line !== undefined ? { line: at.line } : {}),
    ...(at.endLine !== undefined ? { endLine: at.endLine } : {}),
    ...(at.col !== undefined ? { col: at.col } : {}),
    ...(at.endColumn !== undefined ? { endColumn: at.endColumn } : {}),
    origin: "step",
  };
}
