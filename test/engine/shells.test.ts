// Shells: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell
// Argument strings: actions/runner src/Runner.Worker/Handlers/ScriptHandlerHelpers.cs.
import { describe, expect, it } from "vitest";
import {
  INVALID_SHELL_MESSAGE,
  scriptFileName,
  shellCommand,
  splitArguments,
  type ShellOptions,
} from "../../runner/engine/shells.js";

const DOCS = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";
const SCRIPT = "/home/runner/work/_temp/0b1c.sh";

const only =
  (...present: string[]) =>
  (command: string) =>
    present.includes(command);

describe(`shellCommand (${DOCS}#jobsjob_idstepsshell)`, () => {
  it.each<{
    name: string;
    shell: string | undefined;
    options?: ShellOptions;
    argv: string[];
    extension: string;
    template?: string;
  }>([
    // --- unspecified: "bash -e {0}", falling back to sh ---
    {
      name: "unspecified",
      shell: undefined,
      argv: ["bash", "-e", SCRIPT],
      extension: ".sh",
      template: "bash -e {0}",
    },
    { name: "empty", shell: "", argv: ["bash", "-e", SCRIPT], extension: ".sh" },
    { name: "white space only", shell: "  ", argv: ["bash", "-e", SCRIPT], extension: ".sh" },
    {
      name: "unspecified without bash falls back to sh",
      shell: undefined,
      options: { available: only("sh") },
      argv: ["sh", "-e", SCRIPT],
      extension: ".sh",
      template: "sh -e {0}",
    },
    {
      name: "unspecified in a job container is sh",
      shell: undefined,
      options: { inContainer: true, available: only("bash", "sh") },
      argv: ["sh", "-e", SCRIPT],
      extension: ".sh",
    },
    // --- built-ins ---
    {
      name: "bash",
      shell: "bash",
      argv: ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", SCRIPT],
      extension: ".sh",
      template: "bash --noprofile --norc -e -o pipefail {0}",
    },
    { name: "sh", shell: "sh", argv: ["sh", "-e", SCRIPT], extension: ".sh" },
    {
      name: "python",
      shell: "python",
      argv: ["python", SCRIPT],
      extension: ".py",
      template: "python {0}",
    },
    // --- node: not a GitHub built-in, taken as `node {0}` with .js (issue 5) ---
    { name: "node", shell: "node", argv: ["node", SCRIPT], extension: ".js", template: "node {0}" },
    {
      name: "node {0} is a plain template",
      shell: "node {0}",
      argv: ["node", SCRIPT],
      extension: "",
    },
    // --- custom templates: first word is the command, {0} the script ---
    {
      name: "perl {0}",
      shell: "perl {0}",
      argv: ["perl", SCRIPT],
      extension: "",
      template: "perl {0}",
    },
    {
      name: "bash with own flags keeps .sh",
      shell: "bash -x {0}",
      argv: ["bash", "-x", SCRIPT],
      extension: ".sh",
    },
    {
      name: "python3 gets no extension",
      shell: "python3 -u {0}",
      argv: ["python3", "-u", SCRIPT],
      extension: "",
    },
    {
      name: "act's cp {0} trick",
      shell: "cp {0} action.yml",
      argv: ["cp", SCRIPT, "action.yml"],
      extension: "",
    },
    {
      name: "{0} twice",
      shell: "sh -c 'cat {0}' {0}",
      argv: ["sh", "-c", "'cat", `${SCRIPT}'`, SCRIPT],
      extension: ".sh",
    },
    {
      name: "double quotes group",
      shell: 'bash -c "source {0}"',
      argv: ["bash", "-c", `source ${SCRIPT}`],
      extension: ".sh",
    },
    {
      name: "{0} inside a word",
      shell: "env SCRIPT={0} sh -e {0}",
      argv: ["env", `SCRIPT=${SCRIPT}`, "sh", "-e", SCRIPT],
      extension: "",
    },
    {
      name: "extra spaces",
      shell: "  perl   -w   {0}  ",
      argv: ["perl", "-w", SCRIPT],
      extension: "",
    },
  ])("$name", ({ shell, options, argv, extension, template }) => {
    const result = shellCommand(shell, SCRIPT, options);
    expect(result.argv).toEqual(argv);
    expect(result.extension).toBe(extension);
    expect(result.prefix).toBeUndefined();
    if (template !== undefined) expect(result.template).toBe(template);
  });

  it("keeps a script path with spaces as one argument", () => {
    expect(shellCommand("perl {0}", "/tmp/a b/x").argv).toEqual(["perl", "/tmp/a b/x"]);
  });

  it.each<{
    name: string;
    shell: string | undefined;
    options?: ShellOptions;
    code: string;
    message: string;
    hint: string;
  }>([
    // --- Windows shells: a Linux guest has no PowerShell ---
    ...["pwsh", "powershell", "cmd", "PWSH"].map((shell) => ({
      name: shell,
      shell,
      code: "SBX_ENGINE_SHELL",
      message: `shell: ${shell} is not supported: sandboxes are Linux and have no PowerShell or cmd`,
      hint: "use shell: bash or a custom `{0}` template, e.g. shell: perl {0}",
    })),
    // --- templates without {0}: GitHub's message ---
    {
      name: "bash -x without {0}",
      shell: "bash -x",
      code: "SBX_ENGINE_SHELL",
      message: `shell: bash -x: ${INVALID_SHELL_MESSAGE}`,
      hint: "put {0} where the script path goes: shell: bash -x {0}",
    },
    {
      name: "unknown word",
      shell: "fish",
      code: "SBX_ENGINE_SHELL",
      message: `shell: fish: ${INVALID_SHELL_MESSAGE}`,
      hint: "put {0} where the script path goes: shell: fish {0}",
    },
    // --- command missing from the guest ---
    {
      name: "custom command missing",
      shell: "perl {0}",
      options: { available: only("bash", "sh") },
      code: "SBX_ENGINE_SHELL_NOT_FOUND",
      message: "shell: perl {0}: 'perl' is not on the sandbox's PATH",
      hint: "install perl in the VM template or an earlier step, or use shell: bash",
    },
    {
      name: "python missing",
      shell: "python",
      options: { available: only("bash", "python3") },
      code: "SBX_ENGINE_SHELL_NOT_FOUND",
      message: "shell: python: 'python' is not on the sandbox's PATH",
      hint: "install python in the VM template or an earlier step, or use shell: bash",
    },
    {
      name: "neither bash nor sh",
      shell: undefined,
      options: { available: only() },
      code: "SBX_ENGINE_SHELL_NOT_FOUND",
      message: "shell: (default): 'sh' is not on the sandbox's PATH",
      hint: "install sh in the VM template or an earlier step, or use shell: bash",
    },
  ])("refuses $name", ({ shell, options, code, message, hint }) => {
    expect(() => shellCommand(shell, SCRIPT, options)).toThrow(
      expect.objectContaining({ code, message, hint }),
    );
  });

  it("does not look commands up in a job container (the container has its own PATH)", () => {
    expect(shellCommand("perl {0}", SCRIPT, { inContainer: true, available: only() }).argv).toEqual(
      ["perl", SCRIPT],
    );
  });
});

// .NET ProcessStartInfo.Arguments on Unix (ParseArgumentsIntoList), which the runner's command line goes through.
describe("splitArguments (https://learn.microsoft.com/dotnet/api/system.diagnostics.processstartinfo.arguments)", () => {
  it.each<{ name: string; text: string; expect: string[] }>([
    { name: "spaces and tabs", text: " a\tb  c ", expect: ["a", "b", "c"] },
    { name: "empty", text: "", expect: [] },
    { name: "double quotes group", text: '"a b" c', expect: ["a b", "c"] },
    { name: "quotes inside a word", text: 'a"b c"d', expect: ["ab cd"] },
    { name: '"" inside quotes is a quote', text: '"a""b"', expect: ['a"b'] },
    { name: "single quotes are literal", text: "'a b'", expect: ["'a", "b'"] },
    { name: "backslash is literal", text: "a\\b", expect: ["a\\b"] },
    { name: '\\" is a quote', text: 'a\\"b', expect: ['a"b'] },
    { name: '\\\\" halves and toggles', text: '"a\\\\" b', expect: ["a\\", "b"] },
    { name: "empty quotes give an empty argument", text: '"" x', expect: ["", "x"] },
    { name: "pwsh's template", text: "-command \". '{0}'\"", expect: ["-command", ". '{0}'"] },
  ])("$name", ({ text, expect: expected }) => {
    expect(splitArguments(text)).toEqual(expected);
  });
});

describe(`scriptFileName (${DOCS}#jobsjob_idstepsshell)`, () => {
  it.each<{ name: string; id: string; extension: string; expect: string }>([
    { name: "with extension", id: "0b1c", extension: ".sh", expect: "0b1c.sh" },
    { name: "custom shell, no extension", id: "0b1c", extension: "", expect: "0b1c" },
  ])("$name", ({ id, extension, expect: expected }) => {
    expect(scriptFileName(id, extension)).toBe(expected);
  });
});
