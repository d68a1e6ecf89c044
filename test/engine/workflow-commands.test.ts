// Workflow commands: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
// Where the docs are silent, rows encode actions/runner ActionCommand.cs / ActionCommandManager.cs.
import { describe, expect, it } from "vitest";
import {
  commandFlags,
  createCommandProcessor,
  createMasker,
  parseCommandLine,
  type CommandProcessorOptions,
  type LineOutcome,
  type WorkflowCommand,
} from "../../runner/engine/workflow-commands.js";

const DOCS = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands";

const SET_ENV_CHANGELOG =
  "https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/";
const SET_ENV_DISABLED =
  "The `set-env` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/";
const STOP_TOKEN_DISABLED =
  "You cannot use a endToken that is an empty string, the string 'pause-logging', or another workflow command. For more information see: https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands or opt into insecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.";
const SET_OUTPUT_DEPRECATED =
  "The `set-output` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/";

/** Feeds `lines` to a fresh processor and returns every outcome. */
function run(
  lines: readonly string[],
  options: Partial<CommandProcessorOptions> = {},
): LineOutcome[] {
  const processor = createCommandProcessor({ masker: createMasker(), ...options });
  return lines.map((line) => processor.process(line));
}

const last = <T>(items: readonly T[]): T => items[items.length - 1]!;

describe(`parseCommandLine (${DOCS}#about-workflow-commands)`, () => {
  it.each<{ name: string; line: string; expect: Partial<WorkflowCommand> | undefined }>([
    // --- the ::name k=v::data form ---
    {
      name: "name, properties and data",
      line: "::warning file=app.js,line=1::Missing semicolon",
      expect: {
        name: "warning",
        properties: { file: "app.js", line: "1" },
        data: "Missing semicolon",
        form: "v2",
      },
    },
    {
      name: "no properties",
      line: "::group::My title",
      expect: { name: "group", data: "My title" },
    },
    { name: "empty data", line: "::endgroup::", expect: { name: "endgroup", data: "" } },
    { name: "data keeps later ::", line: "::debug::a::b", expect: { data: "a::b" } },
    { name: "leading white space", line: "   ::debug::x", expect: { name: "debug", data: "x" } },
    // --- names and keys ignore case ---
    { name: "upper-case name", line: "::WARNING::x", expect: { name: "warning" } },
    { name: "mixed-case name", line: "::Set-Output name=a::b", expect: { name: "set-output" } },
    {
      name: "property keys are lower-cased",
      line: "::error FILE=a.ts,endLine=4::x",
      expect: { properties: { file: "a.ts", endline: "4" } },
    },
    // --- escaping (data: %25 %0D %0A; properties also %3A %2C) ---
    {
      name: "data unescapes %25 %0D %0A",
      line: "::debug::100%25 done%0D%0Anext",
      expect: { data: "100% done\r\nnext" },
    },
    { name: "data leaves %3A and %2C", line: "::debug::a%3Ab%2Cc", expect: { data: "a%3Ab%2Cc" } },
    { name: "%25 is unescaped last", line: "::debug::%250A", expect: { data: "%0A" } },
    { name: "escapes are case-sensitive", line: "::debug::%0a", expect: { data: "%0a" } },
    {
      name: "property unescapes %3A %2C %0A %25",
      line: "::error title=a%3Ab%2Cc%0Ad%25::x",
      expect: { properties: { title: "a:b,c\nd%" } },
    },
    {
      name: "property value keeps later =",
      line: "::error title=a=b::x",
      expect: { properties: { title: "a=b" } },
    },
    {
      name: "empty pairs and values are dropped",
      line: "::error  title=,,=v,file=f ::x",
      expect: { properties: { file: "f" } },
    },
    // --- not commands ---
    { name: "unregistered name", line: "::foo::bar", expect: undefined },
    { name: "no closing ::", line: "::debug", expect: undefined },
    { name: "empty name", line: "::::x", expect: undefined },
    { name: "not at line start", line: "echo ::debug::x", expect: undefined },
    { name: "C++ scope", line: "::std::string s;", expect: undefined },
    // --- the legacy ##[name k=v;k=v]data form ---
    {
      name: "legacy",
      line: "##[warning]boom",
      expect: { name: "warning", data: "boom", form: "legacy" },
    },
    {
      name: "legacy anywhere in the line, ; between properties",
      line: "log: ##[error file=a.ts;line=2]x%5Dy%3Bz",
      expect: { name: "error", properties: { file: "a.ts", line: "2" }, data: "x]y;z" },
    },
    { name: "legacy unknown name", line: "##[foo]x", expect: undefined },
    {
      name: "unknown v2 name falls back to a legacy command in the line",
      line: "::foo::##[debug]x",
      expect: { name: "debug", data: "x", form: "legacy" },
    },
  ])("$name", ({ line, expect: expected }) => {
    const parsed = parseCommandLine(line);
    if (expected === undefined) expect(parsed).toBeUndefined();
    else expect(parsed).toMatchObject(expected);
  });

  it("accepts any name when asked to", () => {
    expect(parseCommandLine("::foo::bar", () => true)).toMatchObject({ name: "foo", data: "bar" });
  });

  it("stores a __proto__ key as data, not as a prototype", () => {
    const parsed = parseCommandLine("::error __proto__=x::y");
    expect(Object.getPrototypeOf(parsed?.properties)).toBe(Object.prototype);
    expect(parsed?.properties["__proto__"]).toBe("x");
  });
});

describe(`annotations (${DOCS}#setting-an-error-message)`, () => {
  it.each<{ name: string; line: string; expect: object }>([
    {
      name: "error with every property",
      line: "::error file=app.js,line=1,endLine=1,col=5,endColumn=7,title=Bad::Missing semicolon",
      expect: {
        level: "error",
        message: "Missing semicolon",
        title: "Bad",
        file: "app.js",
        line: 1,
        endLine: 1,
        col: 5,
        endColumn: 7,
        origin: "step",
      },
    },
    {
      name: "warning",
      line: "::warning::careful",
      expect: { level: "warning", message: "careful" },
    },
    { name: "notice", line: "::notice title=Hi::there", expect: { level: "notice", title: "Hi" } },
    { name: "legacy error", line: "##[error]old", expect: { level: "error", message: "old" } },
    { name: "multi-line message", line: "::error::a%0Ab", expect: { message: "a\nb" } },
    // --- ValidateLinesAndColumns (runner) ---
    {
      name: "endLine alone becomes line",
      line: "::error endLine=4::x",
      expect: { line: 4, endLine: 4 },
    },
    {
      name: "endColumn alone becomes col",
      line: "::error line=2,endColumn=9::x",
      expect: { col: 9, endColumn: 9 },
    },
    { name: "white space around numbers", line: "::error line= 3 ::x", expect: { line: 3 } },
  ])("$name", ({ line, expect: expected }) => {
    const [out] = run([line]);
    expect(out?.print).toBeUndefined();
    expect(out?.annotations).toEqual([expect.objectContaining(expected)]);
  });

  it.each<{ name: string; line: string; absent: string[] }>([
    {
      name: "columns without a line are dropped",
      line: "::error col=3::x",
      absent: ["col", "line"],
    },
    {
      name: "columns over several lines are dropped",
      line: "::error line=1,endLine=3,col=2::x",
      absent: ["col", "endColumn"],
    },
    {
      name: "endLine before line drops both",
      line: "::error line=5,endLine=2::x",
      absent: ["line", "endLine"],
    },
    {
      name: "endColumn before col drops both",
      line: "::error line=1,col=8,endColumn=2::x",
      absent: ["col", "endColumn"],
    },
    { name: "not a number", line: "::error line=three::x", absent: ["line"] },
    { name: "empty title and file", line: "::error title=,file=::x", absent: ["title", "file"] },
  ])("$name", ({ line, absent }) => {
    const [annotation] = run([line])[0]!.annotations;
    for (const key of absent) expect(annotation).not.toHaveProperty(key);
  });

  it("makes a file inside the workspace relative, and leaves others alone", () => {
    const out = run(
      ["::error file=/home/runner/work/r/r/src/a.ts::x", "::error file=/etc/passwd::y"],
      { workspace: "/home/runner/work/r/r" },
    );
    expect(out.map((o) => o.annotations[0]?.file)).toEqual(["src/a.ts", "/etc/passwd"]);
  });

  it("masks message, title and file", () => {
    const masker = createMasker();
    masker.add("hunter2");
    const processor = createCommandProcessor({ masker });
    expect(
      processor.process("::error file=hunter2.txt,title=pw hunter2::is hunter2").annotations,
    ).toEqual([
      { level: "error", message: "is ***", title: "pw ***", file: "***.txt", origin: "step" },
    ]);
  });
});

describe(`groups, debug, echo (${DOCS})`, () => {
  it("groups a title and ends the group (#grouping-log-lines)", () => {
    const out = run(["::group::My title", "inside", "::endgroup::"]);
    expect(out.map((o) => o.group)).toEqual([
      { kind: "start", title: "My title" },
      undefined,
      { kind: "end" },
    ]);
    expect(out.map((o) => o.print)).toEqual([undefined, "inside", undefined]);
  });

  it.each<{ name: string; stepDebug: boolean; debug: string | undefined }>([
    // #setting-a-debug-message: "you must create a secret named ACTIONS_STEP_DEBUG with the value true"
    { name: "debug hidden without step debug", stepDebug: false, debug: undefined },
    { name: "debug shown with step debug", stepDebug: true, debug: "Set the Octocat variable" },
  ])("$name", ({ stepDebug, debug }) => {
    const [out] = run(["::debug::Set the Octocat variable"], { stepDebug });
    expect(out).toMatchObject({ command: "debug", failStep: false });
    expect(out?.debug).toBe(debug);
    expect(out?.print).toBeUndefined();
  });

  it.each<{
    name: string;
    lines: string[];
    options?: Partial<CommandProcessorOptions>;
    prints: (string | undefined)[];
  }>([
    // #echoing-command-outputs: "Command echoing is disabled by default."
    { name: "off by default", lines: ["::set-output name=a::b"], prints: [undefined] },
    {
      name: "::echo::on echoes later commands, not itself",
      lines: ["::echo::on", "::set-output name=a::b", "::echo::off", "::set-output name=a::c"],
      prints: [undefined, "::set-output name=a::b", "::echo::off", undefined],
    },
    {
      name: "ON in any case",
      lines: ["::echo::ON", "::group::t"],
      prints: [undefined, "::group::t"],
    },
    {
      name: "on from the start with step debug",
      lines: ["::group::t"],
      options: { stepDebug: true },
      prints: ["::group::t"],
    },
    {
      name: "never echoes warning, error, notice, debug",
      lines: ["::echo::on", "::warning::w", "::error::e", "::notice::n", "::debug::d"],
      prints: [undefined, undefined, undefined, undefined, undefined],
    },
    {
      name: "add-mask echoes *** only",
      lines: ["::echo::on", "::add-mask::hunter2"],
      prints: [undefined, "::add-mask::***"],
    },
  ])("echo: $name", ({ lines, options, prints }) => {
    expect(run(lines, options).map((o) => o.print)).toEqual(prints);
  });

  it("reports the echo setting", () => {
    const processor = createCommandProcessor({ masker: createMasker() });
    expect(processor.echo).toBe(false);
    expect(processor.process("::echo::on").echo).toBe(true);
    expect(processor.echo).toBe(true);
  });

  it.each<{ name: string; line: string; message: string }>([
    {
      name: "invalid value",
      line: "::echo::maybe",
      message:
        "Invalid echo command value. Possible values can be: 'on', 'off'. Current value is: 'maybe'.",
    },
    { name: "empty value", line: "::echo::", message: "Value cannot be null. (Parameter 'value')" },
  ])("echo fails the step on $name", ({ line, message }) => {
    const [out] = run([line]);
    expect(out).toMatchObject({ failStep: true });
    expect(out?.annotations.map((a) => a.message)).toEqual([
      `Unable to process command '${line}' successfully.`,
      message,
    ]);
  });
});

describe(`add-mask (${DOCS}#masking-a-value-in-a-log)`, () => {
  it("masks the value in every later line and the command itself is not printed", () => {
    const out = run(["::add-mask::Mona The Octocat", "Hello Mona The Octocat!"]);
    expect(out[0]).toMatchObject({ maskAdded: true, command: "add-mask" });
    expect(out[0]?.print).toBeUndefined();
    expect(out[1]?.print).toBe("Hello ***!");
  });

  it("masks a value with escaped line breaks on each line", () => {
    const out = run(["::add-mask::line-one%0Aline-two", "line-two"]);
    expect(out[1]?.print).toBe("***");
  });

  it("registers a value once (#masking-a-value-in-a-log: once per value per job)", () => {
    expect(run(["::add-mask::abc123", "::add-mask::abc123"]).map((o) => o.maskAdded)).toEqual([
      true,
      false,
    ]);
  });

  it.each<{ name: string; line: string }>([
    { name: "empty", line: "::add-mask::" },
    { name: "white space", line: "::add-mask::   " },
  ])("warns on an $name value", ({ line }) => {
    const [out] = run([line]);
    expect(out).toMatchObject({ maskAdded: false, failStep: false });
    expect(out?.annotations).toEqual([
      {
        level: "warning",
        message: "Can't add secret mask for empty string in ##[add-mask] command.",
        origin: "runner",
      },
    ]);
  });
});

describe(`outputs and state (${DOCS}#setting-an-output-parameter)`, () => {
  it.each<{ name: string; line: string; expect: object }>([
    {
      name: "set-output",
      line: "::set-output name=result::42",
      expect: { output: { name: "result", value: "42" } },
    },
    {
      name: "set-output multi-line",
      line: "::set-output name=r::a%0Ab",
      expect: { output: { name: "r", value: "a\nb" } },
    },
    {
      name: "save-state",
      line: "::save-state name=pid::123",
      expect: { state: { name: "pid", value: "123" } },
    },
  ])("$name is processed with a deprecation warning", ({ line, expect: expected }) => {
    const [out] = run([line]);
    expect(out).toMatchObject({ ...expected, failStep: false });
    expect(out?.annotations[0]?.level).toBe("warning");
  });

  it("warns with GitHub's deprecation message", () => {
    expect(run(["::set-output name=a::b"])[0]?.annotations[0]?.message).toBe(SET_OUTPUT_DEPRECATED);
  });

  it("keeps the raw output value while masking the log", () => {
    const out = run(["::add-mask::s3cr3t!", "::echo::on", "::set-output name=t::s3cr3t!"]);
    expect(out[2]).toMatchObject({
      output: { name: "t", value: "s3cr3t!" },
      print: "::set-output name=t::***",
    });
  });

  it.each<{ name: string; line: string; message: string }>([
    {
      name: "set-output without name",
      line: "::set-output::v",
      message: "Required field 'name' is missing in ##[set-output] command.",
    },
    {
      name: "save-state with empty name",
      line: "::save-state name=::v",
      message: "Required field 'name' is missing in ##[save-state] command.",
    },
  ])("$name fails the step", ({ line, message }) => {
    const [out] = run([line]);
    expect(out).toMatchObject({ failStep: true });
    expect(out?.output).toBeUndefined();
    expect(out?.annotations.map((a) => a.message)).toEqual([
      `Unable to process command '${line}' successfully.`,
      message,
    ]);
  });
});

describe(`set-env and add-path, disabled unless ACTIONS_ALLOW_UNSECURE_COMMANDS (${SET_ENV_CHANGELOG})`, () => {
  it("refuses set-env with GitHub's message and fails the step", () => {
    const [out] = run(["::set-env name=A::b"]);
    expect(out).toMatchObject({ failStep: true });
    expect(out?.env).toBeUndefined();
    expect(out?.annotations).toEqual([
      {
        level: "error",
        message: "Unable to process command '::set-env name=A::b' successfully.",
        origin: "runner",
      },
      { level: "error", message: SET_ENV_DISABLED, origin: "runner" },
    ]);
  });

  it("refuses add-path", () => {
    const [out] = run(["::add-path::/opt/bin"]);
    expect(out?.path).toBeUndefined();
    expect(out?.annotations[1]?.message).toContain("The `add-path` command is disabled.");
  });

  it.each<{ name: string; line: string; expect: object }>([
    {
      name: "set-env",
      line: "::set-env name=A::b",
      expect: { env: { name: "A", value: "b" }, failStep: false },
    },
    {
      name: "add-path",
      line: "::add-path::/opt/bin",
      expect: { path: "/opt/bin", failStep: false },
    },
    { name: "add-path without a path", line: "::add-path::", expect: { failStep: true } },
    { name: "set-env without name", line: "::set-env::b", expect: { failStep: true } },
  ])("with the opt-in: $name", ({ line, expect: expected }) => {
    expect(run([line], { allowUnsecureCommands: true })[0]).toMatchObject(expected);
  });

  it("still refuses NODE_OPTIONS, with an error and without failing the step", () => {
    const [out] = run(["::set-env name=node_options::--require x"], {
      allowUnsecureCommands: true,
    });
    expect(out).toMatchObject({ failStep: false, annotations: [{ level: "error" }] });
    expect(out?.env).toBeUndefined();
    expect(out?.annotations[0]?.message).toBe(
      "Can't update NODE_OPTIONS environment variable using ::set-env:: command.",
    );
  });

  it.each<{ name: string; envs: Record<string, string>[]; expect: object }>([
    {
      name: "unset",
      envs: [{}],
      expect: { allowUnsecureCommands: false, allowUnsecureStopTokens: false },
    },
    {
      name: "true",
      envs: [{ ACTIONS_ALLOW_UNSECURE_COMMANDS: "true" }],
      expect: { allowUnsecureCommands: true },
    },
    {
      name: "TRUE, padded",
      envs: [{ ACTIONS_ALLOW_UNSECURE_COMMANDS: " TRUE " }],
      expect: { allowUnsecureCommands: true },
    },
    {
      name: "1 is not true for bool.TryParse",
      envs: [{ ACTIONS_ALLOW_UNSECURE_COMMANDS: "1" }],
      expect: { allowUnsecureCommands: false },
    },
    {
      name: "from the step env context",
      envs: [{}, { ACTIONS_ALLOW_UNSECURE_COMMANDS: "true" }],
      expect: { allowUnsecureCommands: true },
    },
    {
      name: "stop tokens: 1 counts",
      envs: [{ ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS: "1" }],
      expect: { allowUnsecureStopTokens: true },
    },
    {
      name: "stop tokens: false",
      envs: [{ ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS: "false" }],
      expect: { allowUnsecureStopTokens: false },
    },
  ])("commandFlags: $name", ({ envs, expect: expected }) => {
    expect(commandFlags(...envs)).toMatchObject(expected);
  });
});

describe(`stop-commands (${DOCS}#stopping-and-starting-workflow-commands)`, () => {
  const TOKEN = "a1b2c3d4e5f6";

  it("passes lines through unprocessed until the token, then resumes", () => {
    const processor = createCommandProcessor({ masker: createMasker() });
    const out = [
      `::stop-commands::${TOKEN}`,
      "::warning:: This is a warning message, but it is not rendered as a warning.",
      "::set-output name=a::b",
      `::${TOKEN.toUpperCase()}::`,
      "::warning::now it is",
    ].map((line) => {
      const result = processor.process(line);
      return { result, stopped: processor.stopped };
    });
    expect(out.map((o) => o.stopped)).toEqual([true, true, true, false, false]);
    expect(out[1]?.result).toEqual({
      print: "::warning:: This is a warning message, but it is not rendered as a warning.",
      annotations: [],
      maskAdded: false,
      failStep: false,
    });
    expect(out[2]?.result.output).toBeUndefined();
    // The token resumes in any case; masking is ordinal, like the runner's SecretMasker.
    expect(out[3]?.result.print).toBe(`::${TOKEN.toUpperCase()}::`);
    expect(out[4]?.result.annotations).toHaveLength(1);
  });

  it("masks a token longer than 6 characters, and lines are masked while stopped", () => {
    const masker = createMasker();
    masker.add("hunter2");
    const processor = createCommandProcessor({ masker });
    expect(processor.process(`::stop-commands::${TOKEN}`)).toMatchObject({
      print: "::stop-commands::***",
      maskAdded: true,
    });
    expect(processor.process("pw=hunter2").print).toBe("pw=***");
  });

  it("keeps a short token visible", () => {
    expect(run(["::stop-commands::abc"])[0]).toMatchObject({
      print: "::stop-commands::abc",
      maskAdded: false,
    });
  });

  it("ignores add-mask while stopped", () => {
    const out = run([`::stop-commands::${TOKEN}`, "::add-mask::secret", `::${TOKEN}::`, "secret"]);
    expect(out[1]).toMatchObject({ maskAdded: false, print: "::add-mask::secret" });
    expect(out[3]?.print).toBe("secret");
  });

  it("resumes on the legacy form of the token", () => {
    expect(
      run([`::stop-commands::${TOKEN}`, `##[${TOKEN}]`, "::warning::x"])[2]?.annotations,
    ).toHaveLength(1);
  });

  it.each<{ name: string; token: string }>([
    { name: "empty token", token: "" },
    { name: "pause-logging", token: "pause-logging" },
    { name: "PAUSE-LOGGING", token: "PAUSE-LOGGING" },
    { name: "a command name", token: "warning" },
    { name: "stop-commands itself", token: "stop-commands" },
  ])("refuses $name with GitHub's message", ({ token }) => {
    const out = run([`::stop-commands::${token}`, "::warning::still processed"]);
    expect(out[0]).toMatchObject({ failStep: true });
    expect(last(out[0]!.annotations).message).toBe(STOP_TOKEN_DISABLED);
    expect(out[1]?.annotations).toHaveLength(1);
  });

  it("accepts a weak token with ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS", () => {
    const out = run(
      ["::stop-commands::pause-logging", "::warning::x", "::pause-logging::", "::warning::y"],
      {
        allowUnsecureStopTokens: true,
      },
    );
    expect(out.map((o) => o.annotations.length)).toEqual([0, 0, 0, 1]);
  });
});

describe(`unknown commands (${DOCS}, runner ActionCommandManager.cs)`, () => {
  it("prints them as plain text by default (runner: TryParseV2 only knows registered commands)", () => {
    expect(run(["::foo::bar"])[0]).toEqual({
      print: "::foo::bar",
      annotations: [],
      maskAdded: false,
      failStep: false,
    });
  });

  it("warns with GitHub's message when asked to", () => {
    const [out] = run(["::Foo::bar"], { warnUnknownCommands: true });
    expect(out?.print).toBe("::Foo::bar");
    expect(out?.annotations).toEqual([
      {
        level: "warning",
        message: "Can't find command extension for ##[foo.command].",
        origin: "runner",
      },
    ]);
  });
});

describe("problem matchers (https://github.com/actions/toolkit/blob/main/docs/problem-matchers.md)", () => {
  it.each<{ name: string; line: string; expect: object }>([
    {
      name: "add",
      line: "::add-matcher::.github/tsc.json",
      expect: { matcher: { kind: "add", file: ".github/tsc.json" } },
    },
    {
      name: "remove by owner",
      line: "::remove-matcher owner=tsc::",
      expect: { matcher: { kind: "remove", owner: "tsc" } },
    },
    {
      name: "remove by file",
      line: "::remove-matcher::m.json",
      expect: { matcher: { kind: "remove", file: "m.json" } },
    },
    {
      name: "add without file",
      line: "::add-matcher::",
      expect: { annotations: [{ message: "File path must be specified." }] },
    },
    {
      name: "remove with both",
      line: "::remove-matcher owner=o::f",
      expect: {
        annotations: [
          {
            message:
              "Either specify an owner name or a file path in ##[remove-matcher] command. Both values cannot be set.",
          },
        ],
      },
    },
    {
      name: "remove with neither",
      line: "::remove-matcher::",
      expect: {
        annotations: [
          {
            message:
              "Either an owner name or a file path must be specified in ##[remove-matcher] command.",
          },
        ],
      },
    },
  ])("$name", ({ line, expect: expected }) => {
    expect(run([line])[0]).toMatchObject({ ...expected, failStep: false });
  });
});

describe(`plain output (${DOCS}#masking-a-value-in-a-log)`, () => {
  it.each<{ name: string; line: string; print: string }>([
    { name: "text", line: "hello", print: "hello" },
    { name: "empty line", line: "", print: "" },
    { name: "trailing CR dropped", line: "hello\r", print: "hello" },
    { name: "secret masked", line: "token=ghp_abcdef", print: "token=***" },
  ])("$name", ({ line, print }) => {
    const masker = createMasker();
    masker.add("ghp_abcdef");
    expect(createCommandProcessor({ masker }).process(line)).toEqual({
      print,
      annotations: [],
      maskAdded: false,
      failStep: false,
    });
  });
});
