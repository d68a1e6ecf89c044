// Environment files: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#environment-files
// Parser details (errors, CRLF, NODE_OPTIONS): actions/runner src/Runner.Worker/FileCommandManager.cs.
import { describe, expect, it } from "vitest";
import { isSandboxedError } from "../../runner/errors/index.js";
import {
  applyPath,
  composePath,
  parseEnvFile,
  parseGithubEnv,
  parsePathFile,
  type EnvFileEntry,
} from "../../runner/engine/env-files.js";

const DOCS = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands";

const FORMAT_HINT =
  "write NAME=VALUE, or NAME<<DELIMITER, the value lines, then DELIMITER on a line of its own";
const HEREDOC_HINT = "write NAME<<DELIMITER, e.g. NAME<<EOF, with the value on the following lines";
const DELIMITER_HINT =
  "end the value with a line that is exactly the delimiter; when the value comes from a command or a file without a final newline, print one first: { echo 'NAME<<EOF'; cat file; echo; echo EOF; } >> \"$GITHUB_OUTPUT\"";

const pairs = (entries: readonly EnvFileEntry[]) => entries.map((e) => [e.name, e.value, e.line]);

describe(`parseEnvFile (${DOCS}#setting-an-environment-variable)`, () => {
  it.each<{ name: string; content: string; expect: Array<[string, string, number]> }>([
    // --- NAME=VALUE ---
    { name: "one pair", content: "A=b\n", expect: [["A", "b", 1]] },
    { name: "no final newline", content: "A=b", expect: [["A", "b", 1]] },
    { name: "split on the first =", content: "A=b=c==\n", expect: [["A", "b=c==", 1]] },
    { name: "empty value", content: "A=\n", expect: [["A", "", 1]] },
    { name: "= before << is a plain value", content: "A=b<<c\n", expect: [["A", "b<<c", 1]] },
    { name: "value keeps spaces", content: "A= b \n", expect: [["A", " b ", 1]] },
    { name: "name keeps its text", content: "my var=1\n", expect: [["my var", "1", 1]] },
    {
      name: "empty lines skipped",
      content: "\nA=1\n\n\nB=2\n",
      expect: [
        ["A", "1", 2],
        ["B", "2", 5],
      ],
    },
    {
      name: "later entry kept in order",
      content: "A=1\nA=2\n",
      expect: [
        ["A", "1", 1],
        ["A", "2", 2],
      ],
    },
    { name: "empty file", content: "", expect: [] },
    { name: "byte order mark dropped", content: "\uFEFFA=1\n", expect: [["A", "1", 1]] },
    // --- heredoc (#multiline-strings) ---
    {
      name: "heredoc keeps inner newlines, not the last",
      content: 'JSON<<EOF\n{\n  "a": 1\n}\nEOF\n',
      expect: [["JSON", '{\n  "a": 1\n}', 1]],
    },
    {
      name: "heredoc with = in the value",
      content: "A<<EOF\nx=y\n=z\nEOF\n",
      expect: [["A", "x=y\n=z", 1]],
    },
    {
      name: "<< before = makes the rest the delimiter",
      content: "A<<EOF=1\nv\nEOF=1\n",
      expect: [["A", "v", 1]],
    },
    { name: "empty heredoc", content: "A<<EOF\nEOF\n", expect: [["A", "", 1]] },
    {
      name: "blank lines inside kept",
      content: "A<<EOF\n\nx\n\nEOF\n",
      expect: [["A", "\nx\n", 1]],
    },
    {
      name: "delimiter must match exactly",
      content: "A<<EOF\n EOF\nEOF \nEOF\n",
      expect: [["A", " EOF\nEOF ", 1]],
    },
    {
      name: "delimiter is the last line without newline",
      content: "A<<EOF\nv\nEOF",
      expect: [["A", "v", 1]],
    },
    {
      name: "toolkit-style delimiter, then a pair",
      content: "A<<ghadelimiter_1f2e\nline\nghadelimiter_1f2e\nB=2\n",
      expect: [
        ["A", "line", 1],
        ["B", "2", 4],
      ],
    },
    // --- CRLF tolerated (the runner on Linux would keep the CR and never match the delimiter) ---
    {
      name: "CRLF pair",
      content: "A=b\r\nB=c\r\n",
      expect: [
        ["A", "b", 1],
        ["B", "c", 2],
      ],
    },
    {
      name: "CRLF heredoc keeps inner CRLF",
      content: "A<<EOF\r\nx\r\ny\r\nEOF\r\n",
      expect: [["A", "x\r\ny", 1]],
    },
    { name: "lone CR stays in the value", content: "A=b\rc\n", expect: [["A", "b\rc", 1]] },
  ])("$name", ({ content, expect: expected }) => {
    expect(pairs(parseEnvFile(content, "GITHUB_OUTPUT"))).toEqual(expected);
  });

  it.each<{ name: string; content: string; message: string; line: number; hint: string }>([
    {
      name: "no = or <<",
      content: "A=1\nnovalue\n",
      message: "GITHUB_ENV line 2: Invalid format 'novalue'",
      line: 2,
      hint: FORMAT_HINT,
    },
    {
      name: "empty name",
      content: "=x\n",
      message: "GITHUB_ENV line 1: Invalid format '=x'. Name must not be empty",
      line: 1,
      hint: "write NAME=VALUE",
    },
    {
      name: "heredoc without name",
      content: "<<EOF\nv\nEOF\n",
      message:
        "GITHUB_ENV line 1: Invalid format '<<EOF'. Name must not be empty and delimiter must not be empty",
      line: 1,
      hint: HEREDOC_HINT,
    },
    {
      name: "heredoc without delimiter",
      content: "\nA<<\n",
      message:
        "GITHUB_ENV line 2: Invalid format 'A<<'. Name must not be empty and delimiter must not be empty",
      line: 2,
      hint: HEREDOC_HINT,
    },
    {
      name: "missing delimiter",
      content: "X=1\nA<<EOF\nv\n",
      message: "GITHUB_ENV line 2: Invalid value. Matching delimiter not found 'EOF'",
      line: 2,
      hint: DELIMITER_HINT,
    },
    {
      name: "delimiter glued to the value (no newline before it)",
      content: "A<<EOF\nvalueEOF\n",
      message: "GITHUB_ENV line 1: Invalid value. Matching delimiter not found 'EOF'",
      line: 1,
      hint: DELIMITER_HINT,
    },
    {
      name: "last value line without newline",
      content: "A<<EOF\nv1\nv2",
      message: "GITHUB_ENV line 3: Invalid value. EOF marker missing new line.",
      line: 3,
      hint: DELIMITER_HINT,
    },
  ])("throws SBX_ENGINE_ENV_FILE on $name", ({ content, message, line, hint }) => {
    let caught: unknown;
    try {
      parseEnvFile(content, "GITHUB_ENV");
    } catch (error) {
      caught = error;
    }
    expect(isSandboxedError(caught)).toBe(true);
    expect(caught).toMatchObject({
      code: "SBX_ENGINE_ENV_FILE",
      message,
      hint,
      source: { file: "GITHUB_ENV", line, col: 1 },
    });
  });

  it("redacts quoted file text in errors (STYLE H5)", () => {
    expect(() =>
      parseEnvFile("token hunter2\n", "GITHUB_ENV", {
        redact: (s) => s.replaceAll("hunter2", "***"),
      }),
    ).toThrow("GITHUB_ENV line 1: Invalid format 'token ***'");
  });
});

describe(`parseGithubEnv: NODE_OPTIONS (${DOCS}#setting-an-environment-variable)`, () => {
  // Runner SetEnvFileCommand._setEnvBlockList: skipped with an error annotation, the step goes on.
  it.each<{ name: string; content: string; env: string[]; blocked: string[] }>([
    {
      name: "NODE_OPTIONS skipped",
      content: "NODE_OPTIONS=--require /tmp/x.js\nA=1\n",
      env: ["A"],
      blocked: ["NODE_OPTIONS"],
    },
    {
      name: "any case",
      content: "node_options<<EOF\n-r x\nEOF\n",
      env: [],
      blocked: ["node_options"],
    },
    {
      name: "other names kept",
      content: "NODE_ENV=production\nNODE_OPTIONSX=1\n",
      env: ["NODE_ENV", "NODE_OPTIONSX"],
      blocked: [],
    },
  ])("$name", ({ content, env, blocked }) => {
    const result = parseGithubEnv(content);
    expect(result.env.map((e) => e.name)).toEqual(env);
    expect(result.blocked.map((b) => b.name)).toEqual(blocked);
    for (const b of result.blocked) {
      expect(b.message).toBe(
        "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command.",
      );
    }
  });

  it("names GITHUB_ENV in its errors by default", () => {
    expect(() => parseGithubEnv("bad\n")).toThrow("GITHUB_ENV line 1: Invalid format 'bad'");
  });
});

describe(`parsePathFile (${DOCS}#adding-a-system-path)`, () => {
  it.each<{ name: string; content: string; expect: string[] }>([
    { name: "one entry", content: "/opt/tool/bin\n", expect: ["/opt/tool/bin"] },
    { name: "file order", content: "/a\n/b\n", expect: ["/a", "/b"] },
    { name: "empty lines skipped", content: "\n/a\n\n", expect: ["/a"] },
    { name: "CRLF and CR", content: "/a\r\n/b\r/c", expect: ["/a", "/b", "/c"] },
    { name: "not trimmed", content: " /a \n", expect: [" /a "] },
    { name: "empty", content: "", expect: [] },
    { name: "byte order mark dropped", content: "\uFEFF/a\n", expect: ["/a"] },
  ])("$name", ({ content, expect: expected }) => {
    expect(parsePathFile(content)).toEqual(expected);
  });
});

describe(`applyPath and composePath (${DOCS}#adding-a-system-path)`, () => {
  // "Prepends a directory to the system PATH variable ... for all subsequent actions".
  it.each<{ name: string; current: string[]; added: string[]; expect: string[] }>([
    { name: "first entry", current: [], added: ["/a"], expect: ["/a"] },
    { name: "latest first", current: [], added: ["/a", "/b"], expect: ["/b", "/a"] },
    {
      name: "later step in front",
      current: ["/b", "/a"],
      added: ["/c"],
      expect: ["/c", "/b", "/a"],
    },
    {
      name: "re-added entry moves to the front",
      current: ["/b", "/a"],
      added: ["/a"],
      expect: ["/a", "/b"],
    },
    { name: "duplicate in one file", current: [], added: ["/a", "/b", "/a"], expect: ["/a", "/b"] },
    { name: "nothing added", current: ["/a"], added: [], expect: ["/a"] },
  ])("$name", ({ current, added, expect: expected }) => {
    const before = [...current];
    expect(applyPath(current, added)).toEqual(expected);
    expect(current).toEqual(before);
  });

  it.each<{ name: string; prepended: string[]; base: string; expect: string }>([
    {
      name: "prepended before the base",
      prepended: ["/b", "/a"],
      base: "/usr/bin:/bin",
      expect: "/b:/a:/usr/bin:/bin",
    },
    { name: "nothing prepended", prepended: [], base: "/usr/bin", expect: "/usr/bin" },
    { name: "empty base", prepended: ["/a"], base: "", expect: "/a" },
  ])("composePath: $name", ({ prepended, base, expect: expected }) => {
    expect(composePath(prepended, base)).toBe(expected);
  });
});
