/**
 * The command line a `run:` step's script is started with.
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell
 * Runner: `src/Runner.Worker/Handlers/ScriptHandler.cs` and `ScriptHandlerHelpers.cs`, whose
 * argument strings are used verbatim (e.g. bash's `-e -o pipefail`, which the docs write `-eo pipefail`).
 */
import { SandboxedError } from "../errors/index.js";

export interface ShellCommand {
  /** Command first; the script path is already in place of `{0}`. */
  readonly argv: readonly string[];
  /** Script file extension with its dot, or '' (custom templates get none, as on GitHub). */
  readonly extension: string;
  /** Text to put before the script. GitHub needs one only for pwsh/powershell/cmd, which are refused. */
  readonly prefix?: string;
  /** The template GitHub prints in the step header, e.g. `bash -e {0}`. */
  readonly template: string;
}

export interface ShellOptions {
  /** The step runs in a job container: the default shell is `sh`, and commands are not looked up. */
  readonly inContainer?: boolean;
  /** Whether a command is on the guest's PATH. Without it, every command is assumed present. */
  readonly available?: (command: string) => boolean;
}

/**
 * ScriptHandlerHelpers `_defaultArguments` and `_extensions` for the shells a Linux guest has. The
 * runner looks both up ignoring case (`shell: BASH` gets bash's arguments, then is not found).
 */
const BUILT_IN: ReadonlyMap<string, { readonly args: string; readonly extension: string }> =
  new Map([
    ["bash", { args: "--noprofile --norc -e -o pipefail {0}", extension: ".sh" }],
    ["sh", { args: "-e {0}", extension: ".sh" }],
    ["python", { args: "{0}", extension: ".py" }],
  ]);

const WINDOWS_SHELLS: ReadonlySet<string> = new Set(["pwsh", "powershell", "cmd"]);

/** ScriptHandler's message, verbatim. */
export const INVALID_SHELL_MESSAGE =
  "Invalid shell option. Shell must be a valid built-in (bash, sh, cmd, powershell, pwsh) or a format string containing '{0}'";

/**
 * Splits an argument string the way .NET's `ProcessStartInfo.Arguments` is split on Unix
 * (`ParseArgumentsIntoList`): spaces and tabs separate, double quotes group, `""` inside quotes is
 * a quote, and backslashes are literal unless they precede a quote. Single quotes are literal.
 */
export function splitArguments(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (text[i] === " " || text[i] === "\t") i++;
    if (i >= text.length) break;
    let arg = "";
    let quoted = false;
    while (i < text.length) {
      let slashes = 0;
      while (text[i] === "\\") {
        slashes++;
        i++;
      }
      if (slashes > 0) {
        if (text[i] !== '"') arg += "\\".repeat(slashes);
        else {
          arg += "\\".repeat(Math.floor(slashes / 2));
          if (slashes % 2 === 1) {
            arg += '"';
            i++;
          }
        }
        continue;
      }
      const c = text[i]!;
      if (c === '"') {
        if (quoted && text[i + 1] === '"') {
          arg += '"';
          i++;
        } else quoted = !quoted;
        i++;
        continue;
      }
      if ((c === " " || c === "\t") && !quoted) break;
      arg += c;
      i++;
    }
    args.push(arg);
  }
  return args;
}

function notFound(command: string, shell: string): SandboxedError {
  return new SandboxedError(
    "SBX_ENGINE_SHELL_NOT_FOUND",
    `shell: ${shell}: '${command}' is not on the sandbox's PATH`,
    {
      hint: `install ${command} in the VM template or an earlier step, or use shell: bash`,
    },
  );
}

/**
 * The command line for a step's `shell:` (undefined when the step, `defaults.run.shell` and the
 * job all leave it unset). Throws SBX_ENGINE_SHELL for pwsh/powershell/cmd and for a template
 * without `{0}`, SBX_ENGINE_SHELL_NOT_FOUND when `available` says the command is missing.
 *
 * - unset: `bash -e {0}`; `sh -e {0}` when bash is missing or in a job container (the runner looks
 *   up bash, falls back to sh, and uses sh's arguments either way);
 * - `bash`, `sh`, `python`: the runner's built-ins;
 * - `node`: not a GitHub built-in (GitHub would reject it); taken here as the template `node {0}`
 *   with a `.js` script, which issue 5 asks for. `shell: node {0}` is a plain template (no extension);
 * - anything else: `command [args]` where args hold `{0}`; the first word is the command.
 */
export function shellCommand(
  shell: string | undefined,
  scriptPath: string,
  options: ShellOptions = {},
): ShellCommand {
  const { inContainer = false, available = () => true } = options;
  const requested = shell?.trim() ?? "";
  if (requested === "") {
    const command = inContainer || !available("bash") ? "sh" : "bash";
    if (!inContainer && command === "sh" && !available("sh")) throw notFound("sh", "(default)");
    return { argv: [command, "-e", scriptPath], extension: ".sh", template: `${command} -e {0}` };
  }

  const space = requested.indexOf(" ");
  const command = space < 0 ? requested : requested.slice(0, space);
  const args = space < 0 ? "" : requested.slice(space + 1).trimStart();
  if (WINDOWS_SHELLS.has(command.toLowerCase()) && args === "") {
    throw new SandboxedError(
      "SBX_ENGINE_SHELL",
      `shell: ${requested} is not supported: sandboxes are Linux and have no PowerShell or cmd`,
      { hint: "use shell: bash or a custom `{0}` template, e.g. shell: perl {0}" },
    );
  }
  const builtIn = BUILT_IN.get(command.toLowerCase());
  const nodeShorthand = command === "node" && args === "";
  const format = nodeShorthand ? "{0}" : args === "" ? (builtIn?.args ?? "") : args;
  if (!format.includes("{0}")) {
    throw new SandboxedError("SBX_ENGINE_SHELL", `shell: ${requested}: ${INVALID_SHELL_MESSAGE}`, {
      hint: `put {0} where the script path goes: shell: ${requested} {0}`,
    });
  }
  if (!inContainer && !available(command)) throw notFound(command, requested);

  // The path replaces {0} after splitting, so a path with spaces stays one argument (the runner
  // formats first and splits after, escaping only quotes).
  const argv = [command, ...splitArguments(format).map((a) => a.replaceAll("{0}", scriptPath))];
  const extension = nodeShorthand ? ".js" : (builtIn?.extension ?? "");
  return { argv, extension, template: `${command} ${format}` };
}

/** The script's file name in RUNNER_TEMP: `<id><extension>` (GitHub uses a fresh GUID as id). */
export function scriptFileName(id: string, extension: string): string {
  return `${id}${extension}`;
}
