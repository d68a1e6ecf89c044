/**
 * One process of a step inside the sandbox (a `run` script, or a JavaScript action's main, pre
 * or post), the way the runner does it:
 *  1. fresh, empty file-command files for the step (GITHUB_ENV, GITHUB_OUTPUT, GITHUB_PATH,
 *     GITHUB_STATE, GITHUB_STEP_SUMMARY), and the script written to RUNNER_TEMP;
 *  2. every output line through the workflow-command processor, then the masker, before anyone
 *     sees it;
 *  3. the files read back and parsed on the host; what the step wrote there takes effect for
 *     the steps after it.
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type { JobControl } from "../sandbox/index.js";
import type { Annotation } from "./command-outcome.js";
import { parseEnvFile, parseGithubEnv, parsePathFile } from "./env-files.js";
import type { Masker } from "./masker.js";
import { createCommandProcessor } from "./workflow-commands.js";
import type { CommandProcessorOptions } from "./workflow-commands.js";

export interface StepProcess {
  readonly name: string;
  readonly argv: readonly string[];
  /** Written to this path before the command starts (a `run` step's script). */
  readonly script?: { readonly path: string; readonly content: string };
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface StepIo {
  readonly control: JobControl;
  readonly masker: Masker;
  readonly fileCommands: string;
  readonly commandOptions: Omit<CommandProcessorOptions, "masker">;
  readonly onLine: (stream: "stdout" | "stderr", text: string) => void;
  readonly onGroup: (title: string | undefined) => void;
  readonly onAnnotation: (annotation: Annotation) => void;
}

export interface StepProcessResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  /** A workflow command failed (GitHub marks the step failed and runs on). */
  readonly commandFailed: boolean;
  readonly outputs: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  readonly path: readonly string[];
  readonly state: Readonly<Record<string, string>>;
  readonly summary: string;
  readonly errors: readonly string[];
}

const FILES = ["set_env", "set_output", "add_path", "save_state", "step_summary"] as const;
const FILE_ENV = {
  set_env: "GITHUB_ENV",
  set_output: "GITHUB_OUTPUT",
  add_path: "GITHUB_PATH",
  save_state: "GITHUB_STATE",
  step_summary: "GITHUB_STEP_SUMMARY",
} as const;
/** GitHub shows at most 1 MiB of a step's summary. */
const SUMMARY_MAX = 1024 * 1024;

/** Prepare the step's files and script, then replace the shell with the step's command. */
const PREPARE = [
  'mkdir -p "$SBX_FILE_COMMANDS"',
  'for f in "$GITHUB_ENV" "$GITHUB_OUTPUT" "$GITHUB_PATH" "$GITHUB_STATE" "$GITHUB_STEP_SUMMARY"; do : > "$f"; done',
  'if [ "$1" != - ]; then mkdir -p "$(dirname "$1")" && cat > "$1"; fi',
  "shift",
  'exec "$@"',
].join(" && ");

export async function runStepProcess(io: StepIo, step: StepProcess): Promise<StepProcessResult> {
  const id = randomUUID();
  const files = Object.fromEntries(
    FILES.map((f) => [f, path.posix.join(io.fileCommands, `${f}_${id}`)]),
  ) as Record<(typeof FILES)[number], string>;
  const env: Record<string, string> = { ...step.env, SBX_FILE_COMMANDS: io.fileCommands };
  for (const f of FILES) env[FILE_ENV[f]] = files[f];

  const processor = createCommandProcessor({ ...io.commandOptions, masker: io.masker });
  const outputs: Record<string, string> = {};
  const state: Record<string, string> = {};
  const setEnv: Record<string, string> = {};
  const addPath: string[] = [];
  let commandFailed = false;
  const buffers = { stdout: "", stderr: "" };
  const handle = (stream: "stdout" | "stderr", line: string): void => {
    const r = processor.process(line);
    if (r.print !== undefined) io.onLine(stream, r.print);
    if (r.debug !== undefined) io.onLine(stream, `##[debug]${r.debug}`);
    if (r.group) io.onGroup(r.group.kind === "start" ? r.group.title : undefined);
    for (const a of r.annotations) io.onAnnotation(a);
    if (r.output) outputs[r.output.name] = r.output.value;
    if (r.state) state[r.state.name] = r.state.value;
    if (r.env) setEnv[r.env.name] = r.env.value;
    if (r.path) addPath.push(r.path);
    if (r.failStep) commandFailed = true;
  };
  const onOutput = (stream: "stdout" | "stderr", text: string): void => {
    buffers[stream] += text;
    let nl: number;
    while ((nl = buffers[stream].indexOf("\n")) >= 0) {
      handle(stream, buffers[stream].slice(0, nl));
      buffers[stream] = buffers[stream].slice(nl + 1);
    }
  };
  const result = await io.control.exec(
    {
      name: step.name,
      argv: ["sh", "-c", PREPARE, "sbx-step", step.script?.path ?? "-", ...step.argv],
      env,
      workingDirectory: step.cwd,
      ...(step.script ? { stdin: step.script.content } : {}),
      ...(step.timeoutMs === undefined ? {} : { timeoutMs: step.timeoutMs }),
      ...(step.signal ? { signal: step.signal } : {}),
    },
    onOutput,
  );
  for (const stream of ["stdout", "stderr"] as const) {
    if (buffers[stream] !== "") handle(stream, buffers[stream]);
  }

  // Read the five files back in one command: one base64 line each (empty for an empty file).
  let encoded = "";
  await io.control.exec(
    {
      name: "read file commands",
      argv: [
        "sh",
        "-c",
        'for f; do if [ -s "$f" ]; then base64 -w0 "$f"; fi; echo; rm -f "$f"; done',
        "sbx-read",
        ...FILES.map((f) => files[f]),
      ],
    },
    (s, text) => {
      if (s === "stdout") encoded += text;
    },
  );
  const contents = encoded.split("\n");
  const text = (f: (typeof FILES)[number]): string =>
    Buffer.from(contents[FILES.indexOf(f)] ?? "", "base64").toString("utf8");
  const errors: string[] = [];
  const redact = (t: string): string => io.masker.redact(t);
  const parse = (f: "set_env" | "set_output" | "save_state"): Record<string, string> => {
    try {
      if (f === "set_env") {
        const { env: entries, blocked } = parseGithubEnv(text(f), FILE_ENV[f], { redact });
        for (const b of blocked)
          io.onAnnotation({ level: "error", message: b.message, origin: "runner" });
        return Object.fromEntries(entries.map((e) => [e.name, e.value] as const));
      }
      return Object.fromEntries(
        parseEnvFile(text(f), FILE_ENV[f], { redact }).map((e) => [e.name, e.value] as const),
      );
    } catch (error) {
      errors.push((error as Error).message);
      return {};
    }
  };
  const summary = text("step_summary");
  if (summary.length > SUMMARY_MAX)
    errors.push(
      `$GITHUB_STEP_SUMMARY upload aborted, supports content up to a size of 1024k, got ${Math.ceil(summary.length / 1024)}k`,
    );
  // Parse before reading `errors`: a file that does not parse fails the step, as on GitHub.
  const parsed = {
    outputs: { ...outputs, ...parse("set_output") },
    env: { ...setEnv, ...parse("set_env") },
    path: [...addPath, ...parsePathFile(text("add_path"))],
    state: { ...state, ...parse("save_state") },
  };
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    commandFailed: commandFailed || errors.length > 0,
    ...parsed,
    summary: summary.length > SUMMARY_MAX ? "" : io.masker.redact(summary),
    errors,
  };
}
