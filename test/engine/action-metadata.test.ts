// Reads action.yml fixtures with the real parser; the docs page each row encodes is in `docs`.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ActionMetadata } from "../../runner/engine/action-metadata.js";
import { SandboxedError } from "../../runner/errors/index.js";

const { loadActionMetadata } = await import("../../runner/engine/action-metadata.js");

const MS = "https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax";
const NODE20_GONE =
  "https://github.blog/changelog/2025-09-19-deprecation-of-node-20-on-github-actions-runners/";

let base = "";
let n = 0;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "action-metadata-"));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh folder holding the given files. */
async function actionDir(files: Record<string, string>): Promise<string> {
  const dir = path.join(base, String(++n));
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files))
    await writeFile(path.join(dir, name), content);
  return dir;
}

const node = (using: string, extra = "") =>
  `name: n\ndescription: d\nruns:\n  using: ${using}\n  main: dist/index.js\n${extra}`;

describe("loadActionMetadata: JavaScript actions", () => {
  it.each<{
    name: string;
    docs: string;
    label: string;
    yml: string;
    runs: Partial<ActionMetadata["runs"]>;
    warnings: string[];
    absent?: string;
  }>([
    {
      name: "node24",
      docs: `${MS}#runs-for-javascript-actions`,
      label: "octo/tool@v1",
      yml: node("node24"),
      runs: { using: "node", declared: "node24", runtime: "node24", main: "dist/index.js" },
      warnings: [],
    },
    {
      name: "node20 runs on Node 24, with GitHub's warning",
      docs: NODE20_GONE,
      label: "octo/tool@v1",
      yml: node("node20"),
      runs: { declared: "node20", runtime: "node24" },
      warnings: ["octo/tool@v1 declares runs.using: node20; it runs on Node.js 24, as on GitHub."],
    },
    {
      name: "node12 is forced forward too, not refused",
      docs: "https://github.blog/changelog/2023-06-13-github-actions-all-actions-will-run-on-node16-instead-of-node12-by-default/",
      label: "octo/tool@v1",
      yml: node("node12"),
      runs: { declared: "node12", runtime: "node24" },
      warnings: ["octo/tool@v1 declares runs.using: node12; it runs on Node.js 24, as on GitHub."],
    },
    {
      name: "using compared without case, as the runner does",
      docs: `${MS}#runsusing-for-javascript-actions`,
      label: "octo/tool@v1",
      yml: node("Node24"),
      runs: { declared: "node24" },
      warnings: [],
    },
    {
      name: "pre-if and post-if default to always()",
      docs: `${MS}#runspre-if`,
      label: "octo/tool@v1",
      yml: node("node24", "  pre: setup.js\n  post: cleanup.js\n"),
      runs: { pre: "setup.js", preIf: "always()", post: "cleanup.js", postIf: "always()" },
      warnings: [],
    },
    {
      name: "pre-if and post-if as written",
      docs: `${MS}#runspost-if`,
      label: "octo/tool@v1",
      yml: node(
        "node24",
        "  pre: a.js\n  pre-if: runner.os == 'Linux'\n  post: b.js\n  post-if: failure()\n",
      ),
      runs: { pre: "a.js", preIf: "runner.os == 'Linux'", postIf: "failure()" },
      warnings: [],
    },
    {
      name: "pre is not run for a local action (warning, as GitHub logs)",
      docs: `${MS}#runspre`,
      label: "./.github/actions/tool",
      yml: node("node24", "  pre: setup.js\n  post: cleanup.js\n"),
      runs: { post: "cleanup.js" },
      absent: "pre",
      warnings: ["`pre` execution is not supported for local action from './.github/actions/tool'"],
    },
  ])("$name", async ({ label, yml, runs, warnings, absent }) => {
    const meta = await loadActionMetadata(await actionDir({ "action.yml": yml }), label);
    expect(meta.runs).toMatchObject(runs);
    if (absent !== undefined) expect(meta.runs).not.toHaveProperty(absent);
    expect(meta.warnings).toEqual(warnings);
  });

  it("reads inputs with defaults and required, and outputs (docs: #inputs, #outputs-for-docker-container-and-javascript-actions)", async () => {
    const yml = `name: Greeter
description: Says hello
author: octo
inputs:
  who:
    description: Who to greet
    required: true
  greeting:
    default: \${{ github.actor }} says hi
  plain:
    default: hello
outputs:
  time:
    description: When
runs:
  using: node24
  main: index.js
`;
    const dir = await actionDir({ "action.yml": yml });
    const meta = await loadActionMetadata(dir, "octo/greeter@v1");
    expect(meta).toMatchObject({
      path: path.join(dir, "action.yml"),
      name: "Greeter",
      description: "Says hello",
      author: "octo",
      outputs: [{ id: "time", description: "When" }],
    });
    expect(meta.inputs.map((i) => [i.id, i.required, i.description])).toEqual([
      ["who", true, "Who to greet"],
      ["greeting", false, undefined],
      ["plain", false, undefined],
    ]);
    expect(meta.inputs[1]?.default?.toString()).toBe("${{ format('{0} says hi', github.actor) }}");
    expect(meta.inputs[2]?.default?.toString()).toBe("hello");
  });

  it("takes action.yaml when there is no action.yml (docs: metadata syntax, intro)", async () => {
    const dir = await actionDir({ "action.yaml": node("node24") });
    expect((await loadActionMetadata(dir, "octo/tool@v1")).path).toBe(
      path.join(dir, "action.yaml"),
    );
  });

  it("accepts a file without description, as the runner does (lenient action-root)", async () => {
    const dir = await actionDir({
      "action.yml": "name: n\nruns:\n  using: node24\n  main: i.js\nextra-key: ignored\n",
    });
    expect((await loadActionMetadata(dir, "./x")).name).toBe("n");
  });
});

describe("loadActionMetadata: composite actions", () => {
  const yml = `name: c
description: d
outputs:
  random:
    description: r
    value: \${{ steps.gen.outputs.n }}
runs:
  using: composite
  steps:
    - id: gen
      run: echo "n=4" >> "$GITHUB_OUTPUT"
      shell: bash
      working-directory: sub
    - uses: actions/setup-node@v4
      with:
        node-version: 22
    - uses: ./.github/actions/inner
      if: runner.os == 'Linux'
`;

  it("keeps each step's token, conversion and position (docs: #runs-for-composite-actions)", async () => {
    const meta = await loadActionMetadata(await actionDir({ "action.yml": yml }), "./tools/c");
    if (meta.runs.using !== "composite") throw new Error("expected composite");
    const steps = meta.runs.steps;
    expect(steps.map((s) => s.source)).toEqual([
      { file: "tools/c/action.yml", line: 10, col: 7 },
      { file: "tools/c/action.yml", line: 14, col: 7 },
      { file: "tools/c/action.yml", line: 17, col: 7 },
    ]);
    expect(steps.map((s) => s.uses)).toEqual([
      undefined,
      { value: "actions/setup-node@v4", source: { file: "tools/c/action.yml", line: 14, col: 13 } },
      {
        value: "./.github/actions/inner",
        source: { file: "tools/c/action.yml", line: 17, col: 13 },
      },
    ]);
    expect(steps[0]?.step.id).toBe("gen");
    // The raw token keeps what the converter drops: shell, working-directory, with.
    expect(steps[0]?.token.find("shell")?.toString()).toBe("bash");
    expect(steps[0]?.token.find("working-directory")?.toString()).toBe("sub");
    expect(steps[1]?.token.find("with")).toBeDefined();
    expect(steps[2]?.step.if?.expression).toBe("success() && (runner.os == 'Linux')");
    expect(meta.outputs[0]?.value?.toString()).toBe("${{ steps.gen.outputs.n }}");
  });

  it("reads `using: Composite` like `composite` (the runner ignores case)", async () => {
    const dir = await actionDir({ "action.yml": yml.replace("composite", "Composite") });
    const meta = await loadActionMetadata(dir, "octo/c@v1");
    expect(meta.runs.using === "composite" && meta.runs.steps.length).toBe(3);
  });
});

describe("loadActionMetadata refusals", () => {
  const INVALID_HINT = `Fix the file as the first error says; the keys are listed at ${MS}`;
  const DOCKER_HINT =
    "Use a JavaScript or composite action instead, or a run: step that does the same work.";
  it.each<{
    name: string;
    docs: string;
    label: string;
    files: Record<string, string>;
    code: string;
    message: string;
    hint: string;
    source?: object;
  }>([
    {
      name: "no metadata file",
      docs: `${MS} (action.yml or action.yaml)`,
      label: "octo/tool/sub@v1",
      files: { "README.md": "" },
      code: "SBX_ENGINE_ACTION_MISSING",
      message:
        "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action 'octo/tool/sub@v1' (looked in <dir>)",
      hint: "Check the path after owner/repo in uses: octo/tool/sub@v1; the folder must hold action.yml",
    },
    {
      name: "no metadata file in a local action",
      docs: `${MS} (action.yml or action.yaml)`,
      label: "./.github/actions/none",
      files: {},
      code: "SBX_ENGINE_ACTION_MISSING",
      message:
        "Can't find 'action.yml', 'action.yaml' or 'Dockerfile' for action './.github/actions/none' (looked in <dir>)",
      hint: "Create .github/actions/none/action.yml, or fix the path in uses:",
    },
    {
      name: "runs.using: docker",
      docs: `${MS}#runs-for-docker-container-actions`,
      label: "octo/img@v1",
      files: {
        "action.yml": "name: n\ndescription: d\nruns:\n  using: docker\n  image: Dockerfile\n",
      },
      code: "SBX_ENGINE_ACTION_DOCKER",
      message: "Docker container actions are not supported yet: 'octo/img@v1' is one",
      hint: DOCKER_HINT,
      source: { file: "octo/img@v1/action.yml", line: 4, col: 10 },
    },
    {
      name: "only a Dockerfile",
      docs: `${MS}#runs-for-docker-container-actions`,
      label: "octo/img@v1",
      files: { Dockerfile: "FROM alpine" },
      code: "SBX_ENGINE_ACTION_DOCKER",
      message: "Docker container actions are not supported yet: 'octo/img@v1' is one",
      hint: DOCKER_HINT,
    },
    {
      name: "unknown runtime (GitHub's message)",
      docs: `${MS}#runsusing-for-javascript-actions`,
      label: "octo/tool@v1",
      files: { "action.yml": node("node18") },
      code: "SBX_ENGINE_ACTION_USING",
      message:
        "'using: node18' is not supported, use 'node12', 'node16', 'node20', 'node24' or 'composite' instead.",
      hint: "runs.using: node24 for a JavaScript action, composite for a list of steps",
      source: { file: "octo/tool@v1/action.yml", line: 4, col: 10 },
    },
    {
      name: "JavaScript action without main",
      docs: `${MS}#runsmain`,
      label: "octo/tool@v1",
      files: { "action.yml": "name: n\ndescription: d\nruns:\n  using: node24\n  post: p.js\n" },
      code: "SBX_ENGINE_ACTION_USING",
      message: "Entry javascript file is not provided (runs.main) in octo/tool@v1/action.yml",
      hint: "runs.main: dist/index.js (the file to run, relative to the action)",
      source: { file: "octo/tool@v1/action.yml", line: 4, col: 10 },
    },
    {
      name: "YAML that does not parse",
      docs: MS,
      label: "./bad",
      files: { "action.yml": "name: [\n" },
      code: "SBX_ENGINE_ACTION_INVALID",
      message: "The metadata of action './bad' has 1 error:\nbad/action.yml:2:1: Flow sequence",
      hint: INVALID_HINT,
      source: { file: "bad/action.yml", line: 2, col: 1 },
    },
    {
      name: "all schema errors at once, each file:line:col",
      docs: `${MS}#runsstepsshell`,
      label: "./c",
      files: {
        "action.yml":
          "name: c\nruns:\n  using: composite\n  steps:\n    - run: echo\n    - name: nothing\n",
      },
      code: "SBX_ENGINE_ACTION_INVALID",
      message:
        "The metadata of action './c' has 2 errors:\nc/action.yml:5:7: Required property is missing: shell\nc/action.yml:6:7: There's not enough info",
      hint: INVALID_HINT,
      source: { file: "c/action.yml", line: 5, col: 7 },
    },
    {
      name: "no runs",
      docs: `${MS}#runs`,
      label: "./r",
      files: { "action.yml": "name: n\ndescription: d\n" },
      code: "SBX_ENGINE_ACTION_INVALID",
      message:
        "The metadata of action './r' has 1 error:\nr/action.yml:1:1: Top level 'runs:' section is required for r/action.yml",
      hint: INVALID_HINT,
      source: { file: "r/action.yml", line: 1, col: 1 },
    },
    {
      name: "pre-if with a context runs-if does not allow (each condition checked)",
      docs: `${MS}#runspre-if`,
      label: "./p",
      files: { "action.yml": node("node24", "  pre: a.js\n  pre-if: secrets.X == ''\n") },
      code: "SBX_ENGINE_ACTION_INVALID",
      message:
        "The metadata of action './p' has 1 error:\np/action.yml:7:11: Unrecognized named-value: 'secrets'",
      hint: INVALID_HINT,
      source: { file: "p/action.yml", line: 7, col: 11 },
    },
  ])("$name", async ({ label, files, code, message, hint, source }) => {
    const dir = await actionDir(files);
    const error = await loadActionMetadata(dir, label).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxedError);
    const e = error as SandboxedError;
    expect({ code: e.code, hint: e.hint }).toEqual({ code, hint });
    expect(e.message.replace(dir, "<dir>")).toContain(message);
    if (source !== undefined) expect(e.source).toEqual(source);
  });
});
