// Actions in whole workflows through the engine, each job in the TEST-ONLY host sandbox
// (test/support/host-sandbox.ts): local composite and JavaScript actions, a remote action
// fetched from the stand-in GitHub API (test/support/action-archive-server.ts) and cached by
// commit, and actions/checkout satisfied by the working tree.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createActionCache } from "../../runner/engine/index.js";
import { startActionArchiveServer } from "../support/action-archive-server.js";
import type { ActionArchiveServer } from "../support/action-archive-server.js";
import { printed, runFixture, WORKSPACE, stepLines } from "../support/run-fixture.js";
import type { FixtureRun } from "../support/run-fixture.js";

const METADATA =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax";
const SYNTAX = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";

describe(`local composite actions: ${METADATA}#runs-for-composite-actions`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: greet
        uses: ./.github/actions/greet
        with:
          who: world
      - id: after
        run: |
          echo "output: \${{ steps.greet.outputs.message }}"
          echo "nested output: \${{ steps.greet.outputs.shout }}"
          echo "env from the action: $FROM_COMPOSITE"
      - id: failing
        continue-on-error: true
        uses: ./.github/actions/fails
`,
      files: {
        ".github/actions/greet/action.yml": `name: greet
description: says hello
inputs:
  who:
    description: who to greet
    required: true
  greeting:
    description: the word
    default: Hello
outputs:
  message:
    description: the greeting
    value: \${{ steps.say.outputs.message }}
  shout:
    description: from the nested action
    value: \${{ steps.inner.outputs.loud }}
runs:
  using: composite
  steps:
    - id: say
      shell: bash
      run: |
        echo "message=\${{ inputs.greeting }}, \${{ inputs.who }}" >> "$GITHUB_OUTPUT"
        echo "action path: $GITHUB_ACTION_PATH"
        cat "$GITHUB_ACTION_PATH/data.txt"
        echo "FROM_COMPOSITE=set-inside" >> "$GITHUB_ENV"
    - id: inner
      uses: ./.github/actions/inner
      with:
        text: \${{ inputs.who }}
`,
        ".github/actions/greet/data.txt": "data next to the action\n",
        ".github/actions/inner/action.yml": `name: inner
description: nested
inputs:
  text:
    description: t
outputs:
  loud:
    description: l
    value: \${{ steps.up.outputs.loud }}
runs:
  using: composite
  steps:
    - id: up
      shell: sh
      run: |
        echo "inner sees: \${{ inputs.text }}"
        echo "loud=$(echo '\${{ inputs.text }}' | tr a-z A-Z)" >> "$GITHUB_OUTPUT"
`,
        ".github/actions/fails/action.yml": `name: fails
description: a failing step inside
runs:
  using: composite
  steps:
    - shell: bash
      run: exit 5
    - shell: bash
      run: echo never
`,
      },
    });
  });

  it.each([
    {
      name: "inputs with defaults, GITHUB_ACTION_PATH",
      line: `action path: ${WORKSPACE}/.github/actions/greet`,
    },
    { name: "files next to the action", line: "data next to the action" },
    { name: "a nested composite action gets its inputs", line: "inner sees: world" },
  ])("$name: the lines appear in the calling step's log", ({ line }) => {
    expect(stepLines(run, "j", "greet")).toContain(line);
  });

  it.each([
    { name: "outputs.<id>.value", line: "output: Hello, world" },
    { name: "outputs from a nested action", line: "nested output: WORLD" },
    {
      name: "GITHUB_ENV inside reaches the job's later steps",
      line: "env from the action: set-inside",
    },
  ])("$name", ({ line }) => {
    expect(stepLines(run, "j", "after")).toContain(line);
  });

  it("a failing inner step fails the calling step and stops the action", () => {
    expect(run.step("j", "failing")).toMatchObject({ outcome: "failure", conclusion: "success" });
    expect(stepLines(run, "j", "failing")).not.toContain("never");
  });
});

describe(`local JavaScript actions: ${METADATA}#runs-for-javascript-actions`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: first
        uses: ./js
        with:
          who: first
          multi word: spaced
      - id: second
        uses: ./js
        with:
          who: second
      - id: read
        run: echo "\${{ steps.first.outputs.greeting }} / \${{ steps.second.outputs.greeting }}"
      - run: exit 1
`,
      files: {
        "js/action.yml": `name: js
description: a JavaScript action
inputs:
  who:
    description: w
    required: true
  style:
    description: s
    default: plain
  multi word:
    description: m
runs:
  using: node24
  main: main.js
  post: post.js
`,
        "js/main.js": `const fs = require("fs");
const env = process.env;
console.log("inputs: " + [env.INPUT_WHO, env.INPUT_STYLE, env.INPUT_MULTI_WORD].join(" "));
console.log("node: " + process.argv0 + " in " + process.cwd());
console.log("action path: " + env.GITHUB_ACTION_PATH);
fs.appendFileSync(env.GITHUB_OUTPUT, "greeting=Hello " + env.INPUT_WHO + "\\n");
fs.appendFileSync(env.GITHUB_STATE, "started=state-of-" + env.INPUT_WHO + "\\n");
`,
        "js/post.js": `console.log("post: " + process.env.STATE_started + " " + process.env.INPUT_WHO);\n`,
      },
    });
  });

  it(`inputs as INPUT_<NAME>, upper case, spaces as _ (${METADATA}#inputs)`, () => {
    expect(stepLines(run, "j", "first")).toContain("inputs: first plain spaced");
    expect(stepLines(run, "j", "second")).toContain("inputs: second plain ");
  });

  it("runs on the guest's /usr/local/bin/node, in the workspace, with GITHUB_ACTION_PATH", () => {
    expect(stepLines(run, "j", "first")).toContain(`node: /usr/local/bin/node in ${WORKSPACE}`);
    expect(stepLines(run, "j", "first")).toContain(`action path: ${WORKSPACE}/js`);
  });

  it("outputs through GITHUB_OUTPUT", () => {
    expect(stepLines(run, "j", "read")).toEqual(["Hello first / Hello second"]);
  });

  it(`post steps run last, newest first, with STATE_* from their main, even after a failure (${METADATA}#runspost)`, () => {
    const steps = run.job("j").steps;
    expect(steps.slice(-2).map((s) => [s.name, s.conclusion])).toEqual([
      ["Post ./js", "success"],
      ["Post ./js", "success"],
    ]);
    const post = (offset: number) => printed(run.lines("j", steps.length - offset));
    expect(post(2)).toEqual(["post: state-of-second second"]);
    expect(post(1)).toEqual(["post: state-of-first first"]);
    expect(run.job("j").result).toBe("failure");
  });
});

describe(`a remote action: ${SYNTAX}#jobsjob_idstepsuses`, () => {
  const SHA = "c0ffee".padEnd(40, "0");
  let server: ActionArchiveServer;
  let cacheDir: string;
  const workflow = `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: remote
        uses: acme/greeter@v1
        with:
          who: remote
      - run: echo "\${{ steps.remote.outputs.said }}"
`;
  beforeAll(async () => {
    server = await startActionArchiveServer({
      "acme/greeter": {
        refs: { v1: SHA },
        commits: {
          [SHA]: {
            files: {
              "action.yml":
                "name: greeter\ndescription: d\ninputs:\n  who:\n    description: w\nruns:\n  using: node24\n  main: dist/index.js\n",
              "dist/index.js": `const e = process.env;
console.log([e.GITHUB_ACTION_REPOSITORY, e.GITHUB_ACTION_REF, e.GITHUB_ACTION_PATH].join(" "));
require("fs").appendFileSync(e.GITHUB_OUTPUT, "said=hi " + e.INPUT_WHO + "\\n");
`,
            },
          },
        },
      },
    });
    cacheDir = await mkdtemp(path.join(tmpdir(), "sbx-run-actions-cache-"));
  });
  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("is fetched through the action cache, runs from _actions, and is cached by commit", async () => {
    const cache = createActionCache({
      cacheDir,
      apiUrl: server.apiUrl,
      fetch: (url, init) => fetch(url, init),
      decide: () => ({ allowed: true, reason: "test" }),
    });
    const first = await runFixture({ workflow, cache });
    expect(stepLines(first, "j", "remote")).toEqual([
      "acme/greeter v1 /sandbox/work/_actions/acme/greeter/v1",
    ]);
    expect(printed(first.lines("j", 1))).toEqual(["hi remote"]);
    expect(server.count("codeload")).toBe(1);

    const second = await runFixture({ workflow, cache });
    expect(printed(second.lines("j", 1))).toEqual(["hi remote"]);
    // The tag is resolved again (tags move), the archive is not downloaded again.
    expect(server.count("api", "/tarball/")).toBe(1);
    expect(server.count("codeload")).toBe(1);
  });
});

describe(`a remote action's pre, main and post: ${METADATA}#runspre`, () => {
  it("runs pre before the job's first step, and what pre saves in GITHUB_STATE reaches main and post", async () => {
    const sha = "beef".padEnd(40, "1");
    const server = await startActionArchiveServer({
      "acme/stateful": {
        refs: { v2: sha },
        commits: {
          [sha]: {
            files: {
              "action.yml":
                "name: stateful\ndescription: d\nruns:\n  using: node24\n  pre: pre.js\n  main: main.js\n  post: post.js\n",
              "pre.js":
                'require("fs").appendFileSync(process.env.GITHUB_STATE, "token=from-pre\\n"); console.log("pre");\n',
              "main.js": 'console.log("main sees " + process.env.STATE_token);\n',
              "post.js": 'console.log("post sees " + process.env.STATE_token);\n',
            },
          },
        },
      },
    });
    const cacheDir = await mkdtemp(path.join(tmpdir(), "sbx-run-actions-pre-"));
    try {
      const cache = createActionCache({
        cacheDir,
        apiUrl: server.apiUrl,
        fetch: (url, init) => fetch(url, init),
        decide: () => ({ allowed: true, reason: "test" }),
      });
      const run = await runFixture({
        workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: echo first
      - uses: acme/stateful@v2
`,
        cache,
      });
      const names = run.report.jobs[0]!.steps.map((st) => st.name);
      expect(names).toEqual([
        "Pre acme/stateful@v2",
        "Run echo first",
        "Run acme/stateful@v2",
        "Post acme/stateful@v2",
      ]);
      expect(printed(run.lines("j", 0))).toEqual(["pre"]);
      expect(printed(run.lines("j", 2))).toEqual(["main sees from-pre"]);
      expect(printed(run.lines("j", 3))).toEqual(["post sees from-pre"]);
    } finally {
      await server.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});

describe("actions/checkout (https://github.com/actions/checkout)", () => {
  it("is satisfied by the working tree already copied in, with no fetch", async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: cat src/app.txt
`,
      files: { "src/app.txt": "the app\n" },
      // No action cache: a fetch would be refused.
    });
    expect(run.job("j").steps.map((s) => s.conclusion)).toEqual(["success", "success"]);
    expect(printed(run.lines("j", 0)).join("\n")).toMatch(
      /already in \/sandbox\/work\/hello\/hello/,
    );
    expect(printed(run.lines("j", 1))).toEqual(["the app"]);
  });
});
