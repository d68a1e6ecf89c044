// loadWorkflow: the typed model read from the raw tokens (research G3, G8) and every refusal with
// its position. Syntax reference:
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax
import { describe, expect, it } from "vitest";
import { isSandboxedError } from "../../runner/errors/index.js";
import type {
  RunStep,
  UsesStep,
  WorkflowDiagnostic,
  WorkflowError,
} from "../../runner/engine/workflow.js";

const { loadWorkflow, WorkflowError: WorkflowErrorClass } =
  await import("../../runner/engine/workflow.js");

const FILE = ".github/workflows/ci.yml";

async function diagnosticsOf(yaml: string): Promise<readonly WorkflowDiagnostic[]> {
  try {
    await loadWorkflow(FILE, yaml);
  } catch (error) {
    if (error instanceof WorkflowErrorClass) return error.diagnostics;
    throw error;
  }
  throw new Error("expected SBX_ENGINE_WORKFLOW_INVALID");
}

const FULL = `name: CI
on: push
env:
  GREETING: hello
defaults:
  run:
    shell: bash
    working-directory: src
jobs:
  build:
    name: Build \${{ matrix.node }}
    runs-on: [self-hosted, linux]
    timeout-minutes: 30
    continue-on-error: true
    strategy:
      matrix:
        node: [18, 20]
    env:
      CI_JOB: build
    defaults:
      run:
        shell: sh
    outputs:
      version: \${{ steps.v.outputs.version }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - run: echo one
      - id: v
        name: Version
        if: github.ref == 'refs/heads/main'
        run: echo "version=\${{ matrix.node }}" >> "$GITHUB_OUTPUT"
        shell: bash
        working-directory: app
        timeout-minutes: 5
        continue-on-error: \${{ matrix.node == 18 }}
        env:
          STEP: v
      - run: echo three
      - uses: ./.github/actions/local
  Test:
    needs: BUILD
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo test
`;

describe("loadWorkflow: the model (workflow-syntax docs)", () => {
  it("reads the workflow keys the converter drops (G3)", async () => {
    const wf = await loadWorkflow(FILE, FULL);
    expect(wf.name).toBe("CI");
    expect(wf.file).toBe(FILE);
    expect(JSON.stringify(wf.env)).toContain("GREETING");
    expect(wf.defaults.shell?.toString()).toBe("bash");
    expect(wf.defaults.workingDirectory?.toString()).toBe("src");
    expect(wf.jobs.map((j) => j.id)).toEqual(["build", "Test"]);
  });

  it("reads each job's keys, with its position", async () => {
    const [build] = (await loadWorkflow(FILE, FULL)).jobs;
    expect(build).toMatchObject({
      id: "build",
      if: "success()",
      timeoutMinutes: 30,
      continueOnError: true,
      needs: [],
      source: { file: FILE, line: 10, col: 3 },
    });
    expect(build!.name?.toString()).toContain("matrix.node");
    expect(JSON.stringify(build!.runsOn)).toContain("self-hosted");
    expect(JSON.stringify(build!.strategy)).toContain("matrix");
    expect(JSON.stringify(build!.env)).toContain("CI_JOB");
    expect(build!.defaults.shell?.toString()).toBe("sh");
    expect(JSON.stringify(build!.outputs)).toContain("version");
  });

  it("matches needs to job ids case-insensitively, as GitHub does (G8a)", async () => {
    const test = (await loadWorkflow(FILE, FULL)).jobs[1]!;
    expect(test.needs).toEqual([{ id: "build", source: { file: FILE, line: 43, col: 12 } }]);
    expect(test.if).toBe("failure()");
  });

  it("generates step ids as the converter does: __actions_checkout, __run, __run_2, __self", async () => {
    const steps = (await loadWorkflow(FILE, FULL)).jobs[0]!.steps;
    expect(steps.map((s) => s.id)).toEqual([
      "__actions_checkout",
      "__run",
      "v",
      "__run_2",
      "__self",
    ]);
    expect(steps.map((s) => s.source.line)).toEqual([26, 29, 30, 40, 41]);
  });

  it("reads a run step's keys, wrapping its if in success() && (…)", async () => {
    const step = (await loadWorkflow(FILE, FULL)).jobs[0]!.steps[2] as RunStep;
    expect(step.kind).toBe("run");
    expect(step.name?.toString()).toBe("Version");
    expect(step.if).toBe("success() && (github.ref == 'refs/heads/main')");
    // A string with ${{ }} inside is one format() expression already.
    expect(step.run.toString()).toContain("format(");
    expect(step.shell?.toString()).toBe("bash");
    expect(step.workingDirectory?.toString()).toBe("app");
    expect(step.timeoutMinutes).toBe(5);
    expect(typeof step.continueOnError).toBe("object"); // an expression, evaluated at run time
    expect(JSON.stringify(step.env)).toContain("STEP");
  });

  it("reads a uses step's action and with:", async () => {
    const steps = (await loadWorkflow(FILE, FULL)).jobs[0]!.steps;
    const checkout = steps[0] as UsesStep;
    expect(checkout).toMatchObject({ kind: "uses", uses: "actions/checkout@v4" });
    expect(checkout.action.kind).toBe("checkout");
    expect(JSON.stringify(checkout.with)).toContain("fetch-depth");
    expect((steps[4] as UsesStep).action).toMatchObject({
      kind: "local",
      path: ".github/actions/local",
    });
    expect(checkout.continueOnError).toBe(false);
    expect(checkout.timeoutMinutes).toBeUndefined();
  });

  it("keeps a step whose env is one expression (the converter drops it: G8c)", async () => {
    const wf = await loadWorkflow(
      FILE,
      `on: push
jobs:
  a:
    runs-on: x
    env: \${{ fromJSON('{"A":"1"}') }}
    steps:
      - run: echo
        env: \${{ fromJSON('{"B":"2"}') }}
`,
    );
    expect(wf.jobs[0]!.env?.isExpression).toBe(true);
    expect(wf.jobs[0]!.steps[0]!.env?.isExpression).toBe(true);
  });
});

// Each row: a workflow with one problem, where it is and what is said.
const job = (body: string) => `on: push
jobs:
  build:
    runs-on: ubuntu-latest
${body}`;

describe("loadWorkflow: refusals and checks, before any sandbox starts", () => {
  it.each<{ name: string; yaml: string; line: number; col: number; message: RegExp; hint: RegExp }>(
    [
      // Job keys (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idcontainer)
      {
        name: "container: on a job",
        yaml: job("    container: node:20\n    steps:\n      - run: echo\n"),
        line: 5,
        col: 5,
        message: /^job 'build': container: is not supported yet$/,
        hint: /run the job without container\/services, or use a step that starts the service itself/,
      },
      {
        name: "services: on a job",
        yaml: job(
          "    services:\n      redis:\n        image: redis\n    steps:\n      - run: echo\n",
        ),
        line: 5,
        col: 5,
        message: /^job 'build': services: is not supported yet$/,
        hint: /use a step that starts the service itself/,
      },
      {
        name: "a reusable workflow (jobs.<id>.uses); needing it adds no error",
        yaml: `on: push
jobs:
  call:
    uses: octo/repo/.github/workflows/build.yml@v1
  after:
    needs: call
    runs-on: x
    steps: [{ run: echo }]
`,
        line: 4,
        col: 5,
        message:
          /reusable workflow 'octo\/repo\/\.github\/workflows\/build\.yml@v1'.*not supported yet/,
        hint: /copy the called workflow's jobs/,
      },
      // Steps (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsuses)
      {
        name: "a docker:// step",
        yaml: job("    steps:\n      - uses: docker://alpine:3\n"),
        line: 6,
        col: 15,
        message: /Docker container actions are not supported yet: uses: docker:\/\/alpine:3/,
        hint: /JavaScript or composite action/,
      },
      {
        name: "a remote action without @ref (0.3.61 accepts it: G7)",
        yaml: job("    steps:\n      - uses: actions/setup-node\n"),
        line: 6,
        col: 15,
        message: /^Expected format \{org\}\/\{repo\}\[\/path\]@ref\. Actual 'actions\/setup-node'$/,
        hint: /owner\/repo@ref/,
      },
      // Shells (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell)
      {
        name: "shell: pwsh on a step",
        yaml: job("    steps:\n      - run: echo\n        shell: pwsh\n"),
        line: 7,
        col: 16,
        message: /shell: pwsh is not supported/,
        hint: /shell: bash/,
      },
      {
        name: "shell: powershell in job defaults",
        yaml: job(
          "    defaults:\n      run:\n        shell: powershell\n    steps:\n      - run: echo\n",
        ),
        line: 7,
        col: 16,
        message: /shell: powershell is not supported/,
        hint: /shell: bash/,
      },
      {
        name: "shell: cmd in workflow defaults",
        yaml: `on: push
defaults:
  run:
    shell: cmd
jobs:
  a:
    runs-on: x
    steps:
      - run: echo
`,
        line: 4,
        col: 12,
        message: /shell: cmd is not supported/,
        hint: /shell: bash/,
      },
      {
        name: "a custom shell without {0}",
        yaml: job("    steps:\n      - run: echo\n        shell: perl -w\n"),
        line: 7,
        col: 16,
        message: /Invalid shell option/,
        hint: /\{0\}/,
      },
      // timeout-minutes (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepstimeout-minutes)
      {
        name: "step timeout-minutes 0",
        yaml: job("    steps:\n      - run: echo\n        timeout-minutes: 0\n"),
        line: 7,
        col: 26,
        message: /^timeout-minutes must be a number from 1 to 360, not 0$/,
        hint: /timeout-minutes: 30/,
      },
      {
        name: "step timeout-minutes 361 (one over the cap)",
        yaml: job("    steps:\n      - run: echo\n        timeout-minutes: 361\n"),
        line: 7,
        col: 26,
        message: /^timeout-minutes must be a number from 1 to 360, not 361$/,
        hint: /timeout-minutes: 30/,
      },
      {
        name: "job timeout-minutes -5",
        yaml: job("    timeout-minutes: -5\n    steps:\n      - run: echo\n"),
        line: 5,
        col: 22,
        message: /^timeout-minutes must be a positive number, not -5$/,
        hint: /timeout-minutes: 30/,
      },
      // needs (https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds)
      {
        name: "needs names no job",
        yaml: job("    needs: deploy\n    steps:\n      - run: echo\n"),
        line: 5,
        col: 12,
        message: /^job 'build' needs unknown job 'deploy'$/,
        hint: /^needs one of: build$/,
      },
      {
        name: "needs form a cycle (case differs)",
        yaml: `on: push
jobs:
  a:
    needs: B
    runs-on: x
    steps: [{ run: echo }]
  b:
    needs: a
    runs-on: x
    steps: [{ run: echo }]
`,
        line: 4,
        col: 12,
        message: /^needs form a cycle: a → b → a$/,
        hint: /remove one of these needs: a needs b; b needs a/,
      },
      // Parser errors keep the parser's message and position.
      {
        name: "an unknown job key (parser)",
        yaml: job("    stepz: []\n    steps:\n      - run: echo\n"),
        line: 5,
        col: 5,
        message: /Unexpected value 'stepz'/,
        hint: /workflow-syntax/,
      },
      {
        name: "a bare number as matrix key crashes the parser (G8b)",
        yaml: job("    strategy:\n      matrix:\n        4: [1]\n    steps:\n      - run: echo\n"),
        line: 1,
        col: 1,
        message: /raw\.indexOf is not a function/,
        hint: /quote mapping keys that are numbers/,
      },
    ],
  )("$name", async ({ yaml, line, col, message, hint }) => {
    const diagnostics = await diagnosticsOf(yaml);
    expect(diagnostics).toHaveLength(1);
    const [d] = diagnostics;
    expect(d).toMatchObject({ file: FILE, line, col });
    expect(d!.message).toMatch(message);
    expect(d!.hint).toMatch(hint);
  });

  it("collects every problem, in file order, into one SBX_ENGINE_WORKFLOW_INVALID", async () => {
    const yaml = `on: push
jobs:
  a:
    runs-on: x
    container: node:20
    steps:
      - uses: docker://alpine
      - run: echo
        shell: pwsh
  b:
    uses: o/r/.github/workflows/w.yml@v1
`;
    const error = await loadWorkflow(FILE, yaml).catch((e: unknown) => e);
    expect(isSandboxedError(error)).toBe(true);
    const e = error as WorkflowError;
    expect(e.code).toBe("SBX_ENGINE_WORKFLOW_INVALID");
    expect(e.diagnostics.map((d) => `${d.line}:${d.col}`)).toEqual(["5:5", "7:15", "9:16", "11:5"]);
    expect(e.source).toEqual({ file: FILE, line: 5, col: 5 });
    expect(e.hint).toBe(e.diagnostics[0]!.hint);
    // The message is what the CLI prints: a count, then `file:line:col error message` and hints.
    expect(e.message.split("\n")[0]).toBe(`${FILE}: 4 errors`);
    expect(e.message).toContain(
      `  ${FILE}:5:5 error job 'a': container: is not supported yet\n    hint: `,
    );
    expect(e.message).toContain(`${FILE}:11:5 error job 'b' calls the reusable workflow`);
  });

  it("accepts any runs-on (a local run ignores labels)", async () => {
    const wf = await loadWorkflow(
      FILE,
      job("    steps:\n      - run: echo\n").replace("ubuntu-latest", "[gpu, arm64]"),
    );
    expect(JSON.stringify(wf.jobs[0]!.runsOn)).toContain("gpu");
  });

  it("accepts timeout-minutes 360 on a step (the cap itself) and an expression", async () => {
    const wf = await loadWorkflow(
      FILE,
      job(
        "    steps:\n      - run: a\n        timeout-minutes: 360\n      - run: b\n        timeout-minutes: ${{ 1 }}\n",
      ),
    );
    expect(wf.jobs[0]!.steps[0]!.timeoutMinutes).toBe(360);
    expect(typeof wf.jobs[0]!.steps[1]!.timeoutMinutes).toBe("object");
  });
});
