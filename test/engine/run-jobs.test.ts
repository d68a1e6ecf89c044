// Whole workflows through the engine (loadWorkflow → planJobs → prepareActions → runWorkflow),
// each job in the TEST-ONLY host sandbox (test/support/host-sandbox.ts): jobs, needs, job-level
// if, job outputs, matrices, and what is refused before any sandbox exists.
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { EngineEvent } from "../../runner/engine/index.js";
import { WorkflowError } from "../../runner/engine/index.js";
import { isSandboxedError } from "../../runner/errors/index.js";
import { printed, runFixture, WORKFLOW_FILE } from "../support/run-fixture.js";
import type { FixtureRun } from "../support/run-fixture.js";

const SYNTAX = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";
const STATUS =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions";

const starts = (events: readonly EngineEvent[]) =>
  events.flatMap((e) => (e.type === "job-start" ? [e.job] : []));
const order = (events: readonly EngineEvent[]) =>
  events.flatMap((e) =>
    e.type === "job-start" ? [`start ${e.job}`] : e.type === "job-end" ? [`end ${e.job}`] : [],
  );

describe(`needs: ${SYNTAX}#jobsjob_idneeds`, () => {
  it("runs jobs in needs order, each after the jobs it needs ended", async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  c:
    needs: b
    runs-on: x
    steps: [{ run: echo c }]
  b:
    needs: [a]
    runs-on: x
    steps: [{ run: echo b }]
  a:
    runs-on: x
    steps: [{ run: echo a }]
`,
    });
    expect(order(run.events)).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(run.report.result).toBe("success");
  });

  it("starts a job as soon as its own needs ended, not when its whole stage did", async () => {
    // `slow` waits for a flag that only `late` (which needs `fast`) writes: with stage-by-stage
    // scheduling `late` would wait for `slow`, and `slow` would time out.
    const flag = path.join(tmpdir(), `sbx-dag-${process.pid}-${Date.now()}`);
    try {
      const run = await runFixture({
        workflow: `on: push
jobs:
  slow:
    runs-on: x
    steps:
      - run: while [ ! -f ${flag} ]; do sleep 0.05; done
        timeout-minutes: 0.5
  fast:
    runs-on: x
    steps: [{ run: echo fast }]
  late:
    needs: fast
    runs-on: x
    steps: [{ run: touch ${flag} }]
`,
      });
      expect(run.report.jobs.map((j) => [j.id, j.result])).toEqual([
        ["slow", "success"],
        ["fast", "success"],
        ["late", "success"],
      ]);
    } finally {
      rmSync(flag, { force: true });
    }
  });

  it(`a job with continue-on-error fails without failing the run (${SYNTAX}#jobsjob_idcontinue-on-error)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  experimental:
    runs-on: x
    continue-on-error: true
    steps: [{ run: exit 1 }]
  after:
    needs: experimental
    runs-on: x
    steps: [{ run: echo after }]
`,
    });
    expect(run.report.jobs.map((j) => [j.id, j.result])).toEqual([
      ["experimental", "success"],
      ["after", "success"],
    ]);
    expect(run.report.jobs[0]!.steps[0]!.outcome).toBe("failure");
    expect(run.report.result).toBe("success");
  });

  describe(`a failed need, and job-level status functions: ${STATUS}`, () => {
    let run: FixtureRun;
    beforeAll(async () => {
      run = await runFixture({
        workflow: `on: push
jobs:
  broken:
    runs-on: x
    steps: [{ run: exit 3 }]
  plain:
    needs: broken
    runs-on: x
    steps: [{ run: echo plain }]
  after-plain:
    needs: plain
    runs-on: x
    steps: [{ run: echo after-plain }]
  on-success:
    needs: broken
    if: success()
    runs-on: x
    steps: [{ run: echo on-success }]
  on-always:
    needs: broken
    if: always()
    runs-on: x
    steps: [{ run: echo on-always }]
  on-failure:
    needs: broken
    if: failure()
    runs-on: x
    steps: [{ run: echo on-failure }]
  on-cancelled:
    needs: broken
    if: cancelled()
    runs-on: x
    steps: [{ run: echo on-cancelled }]
  named-failure:
    needs: [broken, plain]
    if: failure('broken')
    runs-on: x
    steps: [{ run: echo named }]
  skipped-need-always:
    needs: plain
    if: always()
    runs-on: x
    steps: [{ run: echo still }]
`,
      });
    });

    it.each([
      { name: "the failed job itself fails", job: "broken", result: "failure" },
      { name: "a dependent is skipped (implied success())", job: "plain", result: "skipped" },
      { name: "skipped transitively", job: "after-plain", result: "skipped" },
      { name: "if: success() is skipped", job: "on-success", result: "skipped" },
      { name: "if: always() still runs", job: "on-always", result: "success" },
      { name: "if: failure() runs", job: "on-failure", result: "success" },
      {
        name: "if: cancelled() is skipped (nothing cancelled)",
        job: "on-cancelled",
        result: "skipped",
      },
      { name: "failure('broken') names one need", job: "named-failure", result: "success" },
      { name: "always() runs after a skipped need", job: "skipped-need-always", result: "success" },
    ])("$name", ({ job, result }) => {
      expect(run.job(job).result).toBe(result);
    });

    it("the run fails, and skipped jobs never get a sandbox", () => {
      expect(run.report.result).toBe("failure");
      expect(starts(run.events).sort()).toEqual(
        ["broken", "named-failure", "on-always", "on-failure", "skipped-need-always"].sort(),
      );
    });
  });

  describe(`a cancelled run (${STATUS}#cancelled, ${STATUS}#always)`, () => {
    let run: FixtureRun;
    beforeAll(async () => {
      const controller = new AbortController();
      run = await runFixture({
        workflow: `on: push
jobs:
  a:
    runs-on: x
    steps:
      - run: sleep 1
      - id: default
        run: echo default
      - id: cleanup
        if: always()
        run: echo cleanup
  on-cancelled:
    needs: a
    if: cancelled()
    runs-on: x
    steps: [{ id: s, run: echo on-cancelled }]
  on-always:
    needs: a
    if: always()
    runs-on: x
    steps: [{ id: s, run: echo on-always }]
  plain:
    needs: a
    runs-on: x
    steps: [{ run: echo plain }]
  not-cancelled:
    needs: a
    if: \${{ !cancelled() }}
    runs-on: x
    steps: [{ run: echo not-cancelled }]
`,
        // Ctrl-C while job a runs its first step.
        onSandbox: (job) => {
          if (job === "a") setTimeout(() => controller.abort(), 300);
        },
        signal: controller.signal,
      });
    });

    it.each([
      { name: "the running job is cancelled", job: "a", result: "cancelled" },
      { name: "if: cancelled() runs, its steps too", job: "on-cancelled", result: "success" },
      { name: "if: always() runs, its steps too", job: "on-always", result: "success" },
      { name: "no if (implied success()) is skipped", job: "plain", result: "skipped" },
      { name: "if: !cancelled() is skipped", job: "not-cancelled", result: "skipped" },
    ])("$name", ({ job, result }) => {
      expect(run.job(job).result).toBe(result);
    });

    it("the running job's later steps run only under always()", () => {
      expect(
        run
          .job("a")
          .steps.slice(1)
          .map((s) => [s.id, s.conclusion]),
      ).toEqual([
        ["default", "skipped"],
        ["cleanup", "success"],
      ]);
      expect(run.job("on-always").steps.map((s) => s.conclusion)).toEqual(["success"]);
      expect(run.report.result).toBe("cancelled");
    });
  });

  it(`job if: false skips the job (${SYNTAX}#jobsjob_idif)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  only-on-tags:
    if: startsWith(github.ref, 'refs/tags/')
    runs-on: x
    steps: [{ run: echo tag }]
  always-here:
    if: github.event_name == 'push'
    runs-on: x
    steps: [{ run: echo push }]
`,
    });
    expect(run.job("only-on-tags").result).toBe("skipped");
    expect(run.job("always-here").result).toBe("success");
    expect(run.report.result).toBe("success");
  });

  it(`needs.<id>.outputs and needs.<id>.result (${SYNTAX}#jobsjob_idoutputs)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  produce:
    runs-on: x
    outputs:
      version: \${{ steps.v.outputs.version }}
      fixed: constant
    steps:
      - id: v
        run: echo "version=1.2.3" >> "$GITHUB_OUTPUT"
  consume:
    needs: produce
    runs-on: x
    steps:
      - run: echo "got \${{ needs.produce.outputs.version }} \${{ needs.produce.outputs.fixed }} \${{ needs.produce.result }}"
`,
    });
    expect(run.job("produce").outputs).toEqual({ version: "1.2.3", fixed: "constant" });
    expect(printed(run.lines("consume"))).toEqual(["got 1.2.3 constant success"]);
  });
});

describe(`strategy.matrix: ${SYNTAX}#jobsjob_idstrategymatrix`, () => {
  it(`include adds to matching combinations or adds new ones, exclude removes (#expanding-or-adding-matrix-configurations)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  build:
    runs-on: x
    strategy:
      matrix:
        os: [linux, mac]
        node: [18, 20]
        exclude:
          - os: mac
            node: 18
        include:
          - os: linux
            node: 20
            extra: lts
          - os: bsd
            node: 22
    steps:
      - run: echo "\${{ matrix.os }}/\${{ matrix.node }}/\${{ matrix.extra }} \${{ strategy.job-index }}/\${{ strategy.job-total }}"
`,
    });
    const names = run.report.jobs.map((j) => j.name).sort();
    expect(names).toEqual([
      "build (bsd, 22)",
      "build (linux, 18)",
      "build (linux, 20, lts)",
      "build (mac, 20)",
    ]);
    expect(printed(run.lines("build (linux, 20, lts)"))).toEqual(["linux/20/lts 1/4"]);
    expect(run.job("build (bsd, 22)").matrix).toEqual({ os: "bsd", node: 22 });
  });

  it.each([
    {
      name: "include only: each entry is a combination",
      strategy: "matrix:\n        include: [{ os: linux }, { os: mac, arch: arm }]",
      expected: ["t (linux)", "t (mac, arm)"],
    },
    {
      name: "a matrix from a needed job's output with fromJSON (#example-using-contexts-to-create-matrices)",
      strategy: "matrix: ${{ fromJSON(needs.setup.outputs.matrix) }}",
      expected: ["t (a)", "t (b)"],
    },
  ])(`$name`, async ({ strategy, expected }) => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  setup:
    runs-on: x
    outputs:
      matrix: \${{ steps.m.outputs.matrix }}
    steps:
      - id: m
        run: echo 'matrix={"name":["a","b"]}' >> "$GITHUB_OUTPUT"
  t:
    needs: setup
    runs-on: x
    strategy:
      ${strategy}
    steps: [{ run: "true" }]
`,
    });
    expect(
      run.report.jobs
        .filter((j) => j.id === "t")
        .map((j) => j.name)
        .sort(),
    ).toEqual(expected);
  });

  it.each([
    {
      name: "no name: the job id and the values",
      key: "",
      expected: ["test (1)", "test (2)"],
    },
    {
      name: "a name with a matrix expression: evaluated per combination",
      key: "name: Test on ${{ matrix.n }}",
      expected: ["Test on 1", "Test on 2"],
    },
    {
      name: "a name without expressions: the values appended, as GitHub shows it",
      key: "name: Test",
      expected: ["Test (1)", "Test (2)"],
    },
  ])(`display names: $name (${SYNTAX}#jobsjob_idname)`, async ({ key, expected }) => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  test:
    ${key}
    runs-on: x
    strategy: { matrix: { n: [1, 2] } }
    steps: [{ run: "true" }]
`,
    });
    expect(run.report.jobs.map((j) => j.name).sort()).toEqual(expected);
  });

  it(`fail-fast cancels the combinations not started yet (${SYNTAX}#jobsjob_idstrategyfail-fast)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  t:
    runs-on: x
    strategy:
      max-parallel: 1
      matrix: { n: [1, 2, 3] }
    steps: [{ run: "exit \${{ matrix.n == 1 && 1 || 0 }}" }]
`,
    });
    expect(run.report.jobs.map((j) => [j.name, j.result])).toEqual([
      ["t (1)", "failure"],
      ["t (2)", "cancelled"],
      ["t (3)", "cancelled"],
    ]);
    expect(starts(run.events)).toEqual(["t (1)"]);
    expect(run.job("t (2)").error).toMatch(/fail-fast/);
  });

  it(`fail-fast cancels a running combination: its later steps run only under always() or cancelled() (${STATUS}#cancelled)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  t:
    runs-on: x
    strategy:
      matrix: { slow: [false, true] }
    steps:
      - run: \${{ matrix.slow && 'sleep 1' || 'exit 1' }}
      - id: default
        run: echo default
      - id: on-cancelled
        if: cancelled()
        run: echo on-cancelled
      - id: on-always
        if: always()
        run: echo on-always
`,
    });
    const slow = run.job("t (true)");
    expect(run.job("t (false)").result).toBe("failure");
    expect(slow.result).toBe("cancelled");
    expect(slow.steps.map((s) => [s.id, s.conclusion])).toEqual([
      ["__run", "success"],
      ["default", "skipped"],
      ["on-cancelled", "success"],
      ["on-always", "success"],
    ]);
  });

  it(`fail-fast: false runs every combination (${SYNTAX}#jobsjob_idstrategyfail-fast)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  t:
    runs-on: x
    strategy:
      fail-fast: false
      max-parallel: 1
      matrix: { n: [1, 2] }
    steps: [{ run: "exit \${{ matrix.n == 1 && 1 || 0 }}" }]
`,
    });
    expect(run.report.jobs.map((j) => j.result)).toEqual(["failure", "success"]);
    expect(run.report.result).toBe("failure");
  });

  it(`max-parallel: 1 runs one combination at a time (${SYNTAX}#jobsjob_idstrategymax-parallel)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  t:
    runs-on: x
    strategy:
      max-parallel: 1
      matrix: { n: [1, 2, 3] }
    steps: [{ run: "echo \${{ matrix.n }}" }]
`,
    });
    expect(order(run.events)).toEqual([
      "start t (1)",
      "end t (1)",
      "start t (2)",
      "end t (2)",
      "start t (3)",
      "end t (3)",
    ]);
  });

  it("--matrix keeps only the combinations with that value (planJobs matrixFilter)", async () => {
    const sandboxes: string[] = [];
    const run = await runFixture({
      workflow: `on: push
jobs:
  t:
    runs-on: x
    strategy: { matrix: { os: [linux, mac], n: [1, 2] } }
    steps: [{ run: "echo \${{ matrix.os }}-\${{ matrix.n }}" }]
`,
      matrixFilter: { os: "mac" },
      onSandbox: (job) => sandboxes.push(job),
    });
    expect(run.report.jobs.map((j) => j.name)).toEqual(["t (mac, 1)", "t (mac, 2)"]);
    expect(sandboxes.sort()).toEqual(["t (mac, 1)", "t (mac, 2)"]);
  });
});

describe("refused before any sandbox exists", () => {
  it.each([
    {
      name: `container: (${SYNTAX}#jobsjob_idcontainer)`,
      jobKeys: "    container: node:20\n",
      step: "echo hi",
      at: [4, 5],
      message: "job 'j': container: is not supported yet",
    },
    {
      name: `services: (${SYNTAX}#jobsjob_idservices)`,
      jobKeys: "    services:\n      db: { image: postgres }\n",
      step: "echo hi",
      at: [4, 5],
      message: "job 'j': services: is not supported yet",
    },
    {
      name: `an unsupported shell (${SYNTAX}#jobsjob_idstepsshell)`,
      jobKeys: "",
      step: "echo hi\n        shell: pwsh",
      at: [7, 16],
      message: "shell: pwsh is not supported: sandboxes are Linux and have no PowerShell or cmd",
    },
    {
      name: `a docker:// action (${SYNTAX}#example-using-a-docker-hub-action)`,
      jobKeys: "",
      step: undefined,
      at: [6, 15],
      message: "Docker container actions are not supported yet: uses: docker://alpine:3",
    },
  ])("$name", async ({ jobKeys, step, at, message }) => {
    const sandboxes: string[] = [];
    const steps =
      step === undefined ? "      - uses: docker://alpine:3\n" : `      - run: ${step}\n`;
    const error = await runFixture({
      workflow: `on: push\njobs:\n  j:\n${jobKeys}    runs-on: x\n    steps:\n${steps}`,
      onSandbox: (job) => sandboxes.push(job),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowError);
    const diagnostics = (error as WorkflowError).diagnostics;
    expect(diagnostics.map((d) => [d.file, d.line, d.col, d.message])).toContainEqual([
      WORKFLOW_FILE,
      ...at,
      message,
    ]);
    expect(sandboxes).toEqual([]);
  });

  it(`a docker container action refused when preparing actions (https://docs.github.com/en/actions/reference/workflows-and-actions/metadata-syntax#runs-for-docker-container-actions)`, async () => {
    const sandboxes: string[] = [];
    const error = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - uses: ./.github/actions/dock
`,
      files: {
        ".github/actions/dock/action.yml":
          "name: dock\ndescription: d\nruns:\n  using: docker\n  image: Dockerfile\n",
      },
      onSandbox: (job) => sandboxes.push(job),
    }).catch((e: unknown) => e);
    expect(isSandboxedError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "SBX_ENGINE_ACTION_DOCKER",
      source: { file: ".github/actions/dock/action.yml", line: 4, col: 10 },
    });
    expect((error as Error).message).toBe(
      "Docker container actions are not supported yet: './.github/actions/dock' is one",
    );
    expect(sandboxes).toEqual([]);
  });
});
