/**
 * Workflow commands a step prints on stdout/stderr (`::name k=v::data`, legacy `##[name k=v]data`).
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 * Behaviour follows the runner where the docs are silent: `src/Runner.Common/ActionCommand.cs`
 * (parsing) and `src/Runner.Worker/ActionCommandManager.cs` (handlers, messages).
 *
 * Pure: the processor says what to do with each line; the job runner renders and applies it.
 */
import { isBlank, type Masker } from "./masker.js";
import {
  annotationFrom,
  fail,
  GITHUB_MESSAGES,
  outcome,
  runnerIssue,
  type LineOutcome,
  type MatcherChange,
} from "./command-outcome.js";

export { createMasker, MASK, type Masker } from "./masker.js";
export type {
  Annotation,
  AnnotationLevel,
  GroupMarker,
  LineOutcome,
  MatcherChange,
  NameValue,
} from "./command-outcome.js";

/**
 * The commands the runner registers (ActionCommandManager.Initialize). A line naming anything else
 * is not a command: the runner prints it unchanged (`TryParseV2` returns false), with no warning.
 */
export const WORKFLOW_COMMANDS = [
  "add-mask",
  "add-matcher",
  "add-path",
  "debug",
  "echo",
  "endgroup",
  "error",
  "group",
  "notice",
  "remove-matcher",
  "save-state",
  "set-env",
  "set-output",
  "stop-commands",
  "warning",
] as const;
export type WorkflowCommandName = (typeof WORKFLOW_COMMANDS)[number];

export interface WorkflowCommand {
  /** Lower-cased: command names are case-insensitive. */
  readonly name: string;
  /** Keys lower-cased (the runner's property dictionary ignores case); values unescaped. */
  readonly properties: Readonly<Record<string, string>>;
  readonly data: string;
  readonly form: "v2" | "legacy";
}

const REGISTERED: ReadonlySet<string> = new Set(WORKFLOW_COMMANDS);

/** The runner unescapes with ordinal, case-sensitive replaces in this order (`%25` last). */
const DATA_ESCAPES: ReadonlyArray<readonly [string, string]> = [
  ["%0D", "\r"],
  ["%0A", "\n"],
  ["%25", "%"],
];
const PROPERTY_ESCAPES: ReadonlyArray<readonly [string, string]> = [
  ["%0D", "\r"],
  ["%0A", "\n"],
  ["%3A", ":"],
  ["%2C", ","],
  ["%25", "%"],
];
const LEGACY_ESCAPES: ReadonlyArray<readonly [string, string]> = [
  ["%3B", ";"],
  ["%0D", "\r"],
  ["%0A", "\n"],
  ["%5D", "]"],
  ["%25", "%"],
];

function unescape(text: string, table: ReadonlyArray<readonly [string, string]>): string {
  return table.reduce((acc, [from, to]) => acc.replaceAll(from, to), text);
}

function parseProperties(
  text: string,
  separator: string,
  table: ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const properties: Record<string, string> = {};
  for (const pair of text.split(separator)) {
    const eq = pair.indexOf("=");
    // `k=` and `=v` carry nothing: the runner drops pairs that do not split into two non-empty parts.
    if (eq <= 0 || eq === pair.length - 1) continue;
    Object.defineProperty(properties, pair.slice(0, eq).toLowerCase(), {
      value: unescape(pair.slice(eq + 1), table),
      enumerable: true,
      writable: true,
    });
  }
  return properties;
}

/**
 * Parses one output line as a workflow command, or returns undefined when it is not one.
 *
 * `::name k=v,k2=v2::data` (leading white space allowed) is tried first, then the legacy form
 * `##[name k=v;k2=v2]data`, which the runner finds anywhere in the line. `isCommand` decides which
 * names count (default: the runner's registered commands); a line naming anything else is plain
 * output, which lets a legacy command later in the same line still match, as in the runner.
 */
export function parseCommandLine(
  line: string,
  isCommand: (name: string) => boolean = (name) => REGISTERED.has(name),
): WorkflowCommand | undefined {
  const v2 = line.trimStart();
  if (v2.startsWith("::")) {
    const end = v2.indexOf("::", 2);
    if (end >= 0) {
      const info = v2.slice(2, end);
      const space = info.indexOf(" ");
      const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
      if (name !== "" && isCommand(name)) {
        const props = space < 0 ? "" : info.slice(space + 1).trim();
        return {
          name,
          properties: parseProperties(props, ",", PROPERTY_ESCAPES),
          data: unescape(v2.slice(end + 2), DATA_ESCAPES),
          form: "v2",
        };
      }
    }
  }
  const start = line.indexOf("##[");
  if (start < 0) return undefined;
  const close = line.indexOf("]", start);
  if (close < 0) return undefined;
  const info = line.slice(start + 3, close);
  const space = info.indexOf(" ");
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase();
  if (name === "" || !isCommand(name)) return undefined;
  return {
    name,
    properties: parseProperties(space < 0 ? "" : info.slice(space + 1), ";", LEGACY_ESCAPES),
    data: unescape(line.slice(close + 1), LEGACY_ESCAPES),
    form: "legacy",
  };
}

export interface CommandProcessorOptions {
  /** The job's masker: `::add-mask::` adds to it, and every printed text goes through it. */
  readonly masker: Masker;
  /** `ACTIONS_STEP_DEBUG`: show `::debug::` lines, and echo commands from the start. */
  readonly stepDebug?: boolean;
  /** See `commandFlags`: lets `::set-env::` and `::add-path::` run. */
  readonly allowUnsecureCommands?: boolean;
  /** See `commandFlags`: lets `::stop-commands::` take an empty, `pause-logging` or command token. */
  readonly allowUnsecureStopTokens?: boolean;
  /** `GITHUB_WORKSPACE`: annotation files inside it are made relative, as on GitHub. */
  readonly workspace?: string;
  /**
   * Treat any `::name::` as a command and warn "Can't find command extension for ##[name.command]."
   * for unknown names. Off by default: the runner prints unknown commands as plain text, so tools
   * that print `::`-prefixed lines (C++ scopes, IPv6) are not flagged.
   */
  readonly warnUnknownCommands?: boolean;
}

export interface CommandProcessor {
  /** One output line of the step, without its line break (a trailing CR is dropped). */
  process(line: string): LineOutcome;
  /** True while `::stop-commands::` is in force. */
  readonly stopped: boolean;
  /** Whether processed commands are echoed to the log (`::echo::on|off`). */
  readonly echo: boolean;
}

/** Commands the runner never echoes: their effect is already in the log (OmitEcho). */
const OMIT_ECHO: ReadonlySet<string> = new Set(["add-mask", "debug", "error", "notice", "warning"]);

interface ProcessorState {
  readonly options: CommandProcessorOptions;
  echo: boolean;
  stopToken: string | undefined;
}

/**
 * `ACTIONS_ALLOW_UNSECURE_COMMANDS` is read with .NET `bool.TryParse` (`true`, any case, padded);
 * `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` with `StringUtil.ConvertToBoolean` (`true`, `1`,
 * `$true`). The runner checks the process environment, then the step's `env` context: pass both.
 */
export function commandFlags(
  ...envs: ReadonlyArray<Readonly<Record<string, string | undefined>>>
): { allowUnsecureCommands: boolean; allowUnsecureStopTokens: boolean } {
  const values = (name: string): string[] =>
    envs.map((env) => env[name]?.trim().toLowerCase() ?? "");
  return {
    allowUnsecureCommands: values("ACTIONS_ALLOW_UNSECURE_COMMANDS").includes("true"),
    allowUnsecureStopTokens: values("ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS").some((v) =>
      ["true", "1", "$true"].includes(v),
    ),
  };
}

/**
 * A processor for one step's output. Create one per step; share the masker across the job.
 * Per line, as in `ActionCommandManager.TryProcessCommand`: parse; while stopped, only the stop
 * token resumes and every other line is plain output; otherwise `stop-commands` is validated and
 * takes effect, and any other command is echoed (if on and not OmitEcho) and then handled.
 */
export function createCommandProcessor(options: CommandProcessorOptions): CommandProcessor {
  const state: ProcessorState = {
    options,
    // Echo starts on only under step debug (ExecutionContext.InitializeJob).
    echo: options.stepDebug === true,
    stopToken: undefined,
  };
  return {
    process: (line) => processLine(state, line.endsWith("\r") ? line.slice(0, -1) : line),
    get stopped() {
      return state.stopToken !== undefined;
    },
    get echo() {
      return state.echo;
    },
  };
}

function processLine(state: ProcessorState, line: string): LineOutcome {
  const { masker, warnUnknownCommands } = state.options;
  const stopToken = state.stopToken;
  const command = parseCommandLine(
    line,
    (name) => warnUnknownCommands === true || REGISTERED.has(name) || name === stopToken,
  );
  if (command === undefined) return outcome({ print: masker.redact(line) });

  if (stopToken !== undefined) {
    if (command.name !== stopToken) return outcome({ print: masker.redact(line) });
    state.stopToken = undefined;
    return outcome({ print: masker.redact(line), command: command.name });
  }
  if (command.name === "stop-commands") return stopCommands(state, command, line);
  if (!REGISTERED.has(command.name)) {
    return outcome({
      print: masker.redact(line),
      annotations: [runnerIssue(masker, "warning", GITHUB_MESSAGES.unknownCommand(command.name))],
    });
  }

  const name = command.name as WorkflowCommandName;
  const echoed = state.echo && !OMIT_ECHO.has(name) ? masker.redact(line) : undefined;
  const result = handle(state, name, command, line);
  return echoed === undefined ? result : { ...result, print: echoed };
}

function stopCommands(state: ProcessorState, command: WorkflowCommand, line: string): LineOutcome {
  const { masker, allowUnsecureStopTokens } = state.options;
  const token = command.data.toLowerCase();
  const weak = token === "" || token === "pause-logging" || REGISTERED.has(token);
  if (weak && allowUnsecureStopTokens !== true) {
    return fail(masker, line, GITHUB_MESSAGES.stopTokenDisabled);
  }
  state.stopToken = token;
  // The runner masks tokens longer than 6 characters so a log reader cannot resume commands.
  const maskAdded = command.data.length > 6 && masker.add(command.data);
  return outcome({ print: masker.redact(line), maskAdded, command: command.name });
}

function requireName(command: WorkflowCommand): string | undefined {
  const name = command.properties["name"];
  return name === undefined || name === "" ? undefined : name;
}

function handle(
  state: ProcessorState,
  name: WorkflowCommandName,
  command: WorkflowCommand,
  line: string,
): LineOutcome {
  const { masker, stepDebug, allowUnsecureCommands, workspace } = state.options;
  const failWith = (message: string): LineOutcome =>
    fail(masker, OMIT_ECHO.has(name) ? name : line, message);
  switch (name) {
    case "add-mask":
      if (isBlank(command.data)) {
        return outcome({
          annotations: [runnerIssue(masker, "warning", GITHUB_MESSAGES.emptyMask)],
          command: name,
        });
      }
      return outcome({
        maskAdded: masker.add(command.data),
        ...(state.echo ? { print: "::add-mask::***" } : {}),
        command: name,
      });
    case "debug":
      return outcome({
        ...(stepDebug === true ? { debug: masker.redact(command.data) } : {}),
        command: name,
      });
    case "notice":
    case "warning":
    case "error":
      return outcome({
        annotations: [annotationFrom(masker, name, command, workspace)],
        command: name,
      });
    case "group":
      return outcome({
        group: { kind: "start", title: masker.redact(command.data) },
        command: name,
      });
    case "endgroup":
      return outcome({ group: { kind: "end" }, command: name });
    case "echo": {
      const value = command.data.trim().toLowerCase();
      if (value !== "on" && value !== "off") {
        return failWith(
          command.data === ""
            ? GITHUB_MESSAGES.nullArgument("value")
            : GITHUB_MESSAGES.invalidEcho(command.data),
        );
      }
      state.echo = value === "on";
      return outcome({ echo: state.echo, command: name });
    }
    case "set-output":
    case "save-state": {
      const key = requireName(command);
      if (key === undefined) return failWith(GITHUB_MESSAGES.missingName(name));
      const pair = { name: key, value: command.data };
      return outcome({
        ...(name === "set-output" ? { output: pair } : { state: pair }),
        // https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/
        annotations: [runnerIssue(masker, "warning", GITHUB_MESSAGES.deprecated(name))],
        command: name,
      });
    }
    case "set-env":
    case "add-path":
      if (allowUnsecureCommands !== true) return failWith(GITHUB_MESSAGES.unsecureDisabled(name));
      return unsecureCommand(state, name, command, failWith);
    case "add-matcher":
      if (command.data === "") {
        return outcome({
          annotations: [runnerIssue(masker, "warning", GITHUB_MESSAGES.matcherFile)],
          command: name,
        });
      }
      return outcome({ matcher: { kind: "add", file: command.data }, command: name });
    case "remove-matcher": {
      const owner = command.properties["owner"] ?? "";
      const file = command.data;
      if ((owner === "") === (file === "")) {
        const message = owner === "" ? GITHUB_MESSAGES.matcherNeither : GITHUB_MESSAGES.matcherBoth;
        return outcome({ annotations: [runnerIssue(masker, "warning", message)], command: name });
      }
      const matcher: MatcherChange =
        owner === "" ? { kind: "remove", file } : { kind: "remove", owner };
      return outcome({ matcher, command: name });
    }
    case "stop-commands":
      // Handled before echo in processLine; kept here so the switch stays exhaustive.
      return stopCommands(state, command, line);
    default: {
      const unreachable: never = name;
      return failWith(GITHUB_MESSAGES.unknownCommand(unreachable));
    }
  }
}

function unsecureCommand(
  state: ProcessorState,
  name: "set-env" | "add-path",
  command: WorkflowCommand,
  failWith: (message: string) => LineOutcome,
): LineOutcome {
  const { masker } = state.options;
  if (name === "add-path") {
    if (command.data === "") return failWith(GITHUB_MESSAGES.nullArgument("path"));
    return outcome({ path: command.data, command: name });
  }
  const key = requireName(command);
  if (key === undefined) return failWith(GITHUB_MESSAGES.missingName(name));
  // SetEnvCommandExtension._setEnvBlockList: an error annotation, the step goes on.
  if (key.toUpperCase() === "NODE_OPTIONS") {
    return outcome({
      annotations: [runnerIssue(masker, "error", GITHUB_MESSAGES.setEnvBlocked)],
      command: name,
    });
  }
  return outcome({ env: { name: key, value: command.data }, command: name });
}
