// Step semantics of whole workflows through the engine, each job in the TEST-ONLY host sandbox
// (test/support/host-sandbox.ts): step if, env layers, defaults.run, working-directory, shells,
// continue-on-error, step timeouts, step outputs, the default variables and hashFiles.
// Environment files and workflow commands are in run-commands.test.ts, actions in
// run-actions.test.ts.
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { printed, REPO, runFixture, WORKSPACE, stepLines } from "../support/run-fixture.js";
import type { FixtureRun } from "../support/run-fixture.js";

const SYNTAX = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";
const EXPRESSIONS =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/expressions";
const CONTEXTS = "https://docs.github.com/en/actions/reference/workflows-and-actions/contexts";
const VARIABLES = "https://docs.github.com/en/actions/reference/workflows-and-actions/variables";

describe(`step if with status functions: ${EXPRESSIONS}#status-check-functions`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: before
        if: success()
        run: echo before
      - id: fails
        run: exit 1
      - id: default
        run: echo default
      - id: on-success
        if: success()
        run: echo on-success
      - id: on-failure
        if: failure()
        run: echo on-failure
      - id: on-always
        if: always()
        run: echo on-always
      - id: on-cancelled
        if: cancelled()
        run: echo on-cancelled
      - id: not-cancelled
        if: \${{ !cancelled() }}
        run: echo not-cancelled
      - id: on-outcome
        if: failure() && steps.fails.outcome == 'failure'
        run: echo on-outcome
      - id: plain-false
        if: always() && github.event_name == 'nope'
        run: echo plain-false
`,
    });
  });

  it.each([
    { name: "success() before any failure runs", id: "before", conclusion: "success" },
    { name: "the failing step", id: "fails", conclusion: "failure" },
    { name: "no if (implied success()) is skipped", id: "default", conclusion: "skipped" },
    { name: "success() is skipped", id: "on-success", conclusion: "skipped" },
    { name: "failure() runs", id: "on-failure", conclusion: "success" },
    { name: "always() runs", id: "on-always", conclusion: "success" },
    { name: "cancelled() is skipped", id: "on-cancelled", conclusion: "skipped" },
    { name: "!cancelled() runs", id: "not-cancelled", conclusion: "success" },
    { name: "failure() && steps.<id>.outcome", id: "on-outcome", conclusion: "success" },
    { name: "always() && a false condition is skipped", id: "plain-false", conclusion: "skipped" },
  ])("$name", ({ id, conclusion }) => {
    expect(run.step("j", id).conclusion).toBe(conclusion);
    if (conclusion === "success") expect(stepLines(run, "j", id)).toEqual([id]);
  });

  it("the job fails", () => {
    expect(run.job("j").result).toBe("failure");
  });
});

describe(`env at workflow, job and step level: ${SYNTAX}#env, ${CONTEXTS}#env-context`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
env:
  A: workflow
  B: workflow
  C: workflow
  D: workflow
  GITHUB_SHA: overridden
jobs:
  j:
    runs-on: x
    env:
      B: job
      C: job
      D: job
    steps:
      - run: echo "D=from-env-file" >> "$GITHUB_ENV"
      - id: show
        env:
          C: step
          E: \${{ env.B }}-\${{ env.D }}
        run: |
          echo "A=$A"
          echo "B=$B"
          echo "C=$C"
          echo "D=$D"
          echo "E=$E"
          echo "expr=\${{ env.A }}/\${{ env.C }}"
          echo "GITHUB_SHA=$GITHUB_SHA"
`,
      env: { A: "env-file", F: "env-file" },
    });
  });

  it.each([
    { name: "workflow env over --env-file", line: "A=workflow" },
    { name: "job env over workflow env", line: "B=job" },
    { name: "step env over job env", line: "C=step" },
    { name: "GITHUB_ENV over job env, for later steps", line: "D=from-env-file" },
    { name: "a step's env sees the env context", line: "E=job-from-env-file" },
    { name: "${{ env.X }} reads the same layers", line: "expr=workflow/step" },
    { name: "GITHUB_* defaults cannot be overridden", line: `GITHUB_SHA=${REPO.sha}` },
  ])("$name", ({ line }) => {
    expect(stepLines(run, "j", "show")).toContain(line);
  });
});

describe(`defaults.run and working-directory: ${SYNTAX}#defaultsrun`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
defaults:
  run:
    shell: sh
    working-directory: wf-dir
jobs:
  workflow-defaults:
    runs-on: x
    steps:
      - id: s
        run: echo "\${BASH_VERSION:-no-bash} $(basename "$PWD")"
  job-defaults:
    runs-on: x
    defaults:
      run:
        shell: bash
        working-directory: job-dir
    steps:
      - id: s
        run: echo "\${BASH_VERSION:+bash} $(basename "$PWD")"
      - id: own
        shell: sh
        working-directory: step-dir/deeper
        run: echo "\${BASH_VERSION:-no-bash} $(basename "$PWD")"
      - id: absolute
        working-directory: /tmp
        run: pwd
`,
      files: {
        "wf-dir/.keep": "",
        "job-dir/.keep": "",
        "step-dir/deeper/.keep": "",
      },
    });
  });

  it.each([
    { name: "workflow defaults apply", job: "workflow-defaults", id: "s", line: "no-bash wf-dir" },
    {
      name: "job defaults win over workflow defaults",
      job: "job-defaults",
      id: "s",
      line: "bash job-dir",
    },
    {
      name: `step shell and working-directory win (${SYNTAX}#jobsjob_idstepsworking-directory)`,
      job: "job-defaults",
      id: "own",
      line: "no-bash deeper",
    },
    {
      name: "an absolute working-directory is kept",
      job: "job-defaults",
      id: "absolute",
      line: "/tmp",
    },
  ])("$name", ({ job, id, line }) => {
    expect(stepLines(run, job, id)).toEqual([line]);
  });

  it(`a working-directory that does not exist fails the step (${SYNTAX}#jobsjob_idstepsworking-directory)`, async () => {
    const missing = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - working-directory: nowhere
        run: echo never
`,
    });
    expect(missing.job("j").steps[0]).toMatchObject({ outcome: "failure" });
    expect(printed(missing.lines("j"))).not.toContain("never");
  });
});

describe(`shells: ${SYNTAX}#jobsjob_idstepsshell`, () => {
  let run: FixtureRun;
  const rows = [
    {
      name: "default bash -e {0}: a failing command stops the script",
      shell: "",
      script: "false\necho after",
      outcome: "failure",
      lines: [],
    },
    {
      name: "default bash -e {0}: no pipefail",
      shell: "",
      script: "false | true\necho after-pipe",
      outcome: "success",
      lines: ["after-pipe"],
    },
    {
      name: "bash adds pipefail",
      shell: "bash",
      script: "false | true\necho after-pipe",
      outcome: "failure",
      lines: [],
    },
    {
      name: "bash runs bash",
      shell: "bash",
      script: 'echo "${BASH_VERSION:+is-bash}"',
      outcome: "success",
      lines: ["is-bash"],
    },
    {
      name: "sh -e {0}: not bash, and a failing command stops it",
      shell: "sh",
      script: 'echo "${BASH_VERSION:-not-bash}"\nfalse\necho after',
      outcome: "failure",
      lines: ["not-bash"],
    },
    {
      name: "python {0}",
      shell: "python",
      script: "import sys\nprint('python', sys.version_info[0])",
      outcome: "success",
      lines: ["python 3"],
    },
    {
      name: "python: an exception fails the step",
      shell: "python",
      script: "raise SystemExit(4)",
      outcome: "failure",
      lines: [],
    },
    {
      name: "node (a .js script)",
      shell: "node",
      script: "console.log('node', require('path').extname(__filename))",
      outcome: "success",
      lines: ["node .js"],
    },
    {
      name: "custom template perl {0}",
      shell: "perl {0}",
      script: 'print "perl " . ($0 =~ /\\.\\w+$/ ? "ext" : "no-ext") . "\\n";',
      outcome: "success",
      lines: ["perl no-ext"],
    },
    {
      name: "custom template with arguments: bash --noprofile -x {0}",
      shell: "bash --noprofile --norc {0}",
      script: "false\necho no-errexit",
      outcome: "success",
      lines: ["no-errexit"],
    },
  ] as const;

  beforeAll(async () => {
    const steps = rows
      .map(
        (r, i) =>
          `      - id: s${i}\n        continue-on-error: true\n` +
          (r.shell ? `        shell: ${r.shell}\n` : "") +
          `        run: |\n${r.script
            .split("\n")
            .map((l) => `          ${l}`)
            .join("\n")}\n`,
      )
      .join("");
    run = await runFixture({
      workflow: `on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n${steps}`,
    });
  });

  it.each(rows.map((r, i) => ({ ...r, id: `s${i}` })))("$name", ({ id, outcome, lines }) => {
    expect(run.step("j", id).outcome).toBe(outcome);
    expect(stepLines(run, "j", id)).toEqual(lines);
  });

  it("the header names the shell as GitHub prints it", () => {
    expect(run.lines("j", 0)).toContain("shell: bash -e {0}");
    expect(run.lines("j", 2)).toContain("shell: bash --noprofile --norc -e -o pipefail {0}");
  });
});

describe(`continue-on-error: ${SYNTAX}#jobsjob_idstepscontinue-on-error`, () => {
  it(`a failed step's outcome is failure and its conclusion success (${CONTEXTS}#steps-context)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: flaky
        continue-on-error: true
        run: exit 7
      - id: next
        run: echo "\${{ steps.flaky.outcome }}/\${{ steps.flaky.conclusion }}"
      - id: expr
        continue-on-error: \${{ github.event_name == 'push' }}
        run: exit 1
      - id: on-failure
        if: failure()
        run: echo "the job has not failed"
`,
    });
    expect(run.step("j", "flaky")).toMatchObject({
      outcome: "failure",
      conclusion: "success",
      exitCode: 7,
    });
    expect(stepLines(run, "j", "next")).toEqual(["failure/success"]);
    expect(run.step("j", "expr")).toMatchObject({ outcome: "failure", conclusion: "success" });
    expect(run.step("j", "on-failure").conclusion).toBe("skipped");
    expect(run.job("j").result).toBe("success");
  });
});

describe(`step timeout-minutes: ${SYNTAX}#jobsjob_idstepstimeout-minutes`, () => {
  it("kills the step's processes when the time is up and fails it; always() steps still run", async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: slow
        timeout-minutes: 0.01
        run: |
          sleep 30 &
          sleep 30
          echo never
      - id: cleanup
        if: always()
        run: echo "\${{ steps.slow.outcome }}"
`,
    });
    expect(run.step("j", "slow")).toMatchObject({ outcome: "failure", timedOut: true });
    expect(stepLines(run, "j", "cleanup")).toEqual(["failure"]);
    expect(run.job("j").annotations.map((a) => a.message)).toContainEqual(
      expect.stringMatching(/has timed out/),
    );
    expect(run.job("j").result).toBe("failure");
  });
});

describe(`step and job outputs: ${SYNTAX}#jobsjob_idoutputs`, () => {
  it("a step's GITHUB_OUTPUT lands in steps.<id>.outputs and in the job's outputs", async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    outputs:
      both: \${{ steps.a.outputs.x }}+\${{ steps.b.outputs.y }}
    steps:
      - id: a
        run: echo "x=1" >> "$GITHUB_OUTPUT"
      - id: b
        run: echo "y=\${{ steps.a.outputs.x }}2" >> "$GITHUB_OUTPUT"
      - id: c
        run: echo "\${{ steps.b.outputs.y }} [\${{ steps.none.outputs.z }}]"
`,
    });
    expect(stepLines(run, "j", "c")).toEqual(["12 []"]);
    expect(run.job("j").outputs).toEqual({ both: "1+12" });
  });
});

describe(`default environment variables: ${VARIABLES}#default-environment-variables`, () => {
  let run: FixtureRun;
  const payload = { ref: REPO.ref, head_commit: { message: "from the payload" } };
  beforeAll(async () => {
    run = await runFixture({
      workflow: `name: Semantics
on: push
jobs:
  show-env:
    runs-on: x
    steps:
      - id: vars
        run: |
          for v in CI GITHUB_ACTIONS GITHUB_WORKSPACE GITHUB_SHA GITHUB_REF GITHUB_REF_NAME \\
            GITHUB_REF_TYPE GITHUB_EVENT_NAME GITHUB_REPOSITORY GITHUB_REPOSITORY_OWNER \\
            GITHUB_JOB GITHUB_ACTION GITHUB_WORKFLOW GITHUB_ACTOR GITHUB_RUN_ID RUNNER_OS \\
            RUNNER_TEMP; do
            eval "echo $v=\\$$v"
          done
          test -d "$RUNNER_TEMP" && echo "RUNNER_TEMP exists"
          test "$PWD" = "$GITHUB_WORKSPACE" && echo "starts in the workspace"
          cat README.md
      - id: event
        shell: node {0}
        run: console.log(require(process.env.GITHUB_EVENT_PATH).head_commit.message)
      - id: context
        run: echo "\${{ github.sha }} \${{ github.workspace }} \${{ github.event.head_commit.message }} \${{ runner.os }} \${{ github.job }}"
`,
      files: { "README.md": "the working tree\n" },
      event: { name: "push", payload },
    });
  });

  it.each([
    { name: "CI", line: "CI=true" },
    { name: "GITHUB_ACTIONS", line: "GITHUB_ACTIONS=true" },
    { name: "GITHUB_WORKSPACE", line: `GITHUB_WORKSPACE=${WORKSPACE}` },
    { name: "GITHUB_SHA", line: `GITHUB_SHA=${REPO.sha}` },
    { name: "GITHUB_REF", line: `GITHUB_REF=${REPO.ref}` },
    { name: "GITHUB_REF_NAME", line: "GITHUB_REF_NAME=main" },
    { name: "GITHUB_REF_TYPE", line: "GITHUB_REF_TYPE=branch" },
    { name: "GITHUB_EVENT_NAME", line: "GITHUB_EVENT_NAME=push" },
    { name: "GITHUB_REPOSITORY", line: `GITHUB_REPOSITORY=${REPO.repository}` },
    { name: "GITHUB_REPOSITORY_OWNER", line: "GITHUB_REPOSITORY_OWNER=octo" },
    { name: "GITHUB_JOB", line: "GITHUB_JOB=show-env" },
    { name: "GITHUB_ACTION: the step id", line: "GITHUB_ACTION=vars" },
    { name: "GITHUB_WORKFLOW: the name", line: "GITHUB_WORKFLOW=Semantics" },
    { name: "GITHUB_ACTOR", line: `GITHUB_ACTOR=${REPO.actor}` },
    { name: "GITHUB_RUN_ID", line: "GITHUB_RUN_ID=4242" },
    { name: "RUNNER_OS", line: "RUNNER_OS=Linux" },
    { name: "RUNNER_TEMP", line: "RUNNER_TEMP=/sandbox/work/_temp" },
    { name: "RUNNER_TEMP is a folder", line: "RUNNER_TEMP exists" },
    { name: "steps start in GITHUB_WORKSPACE", line: "starts in the workspace" },
    { name: "the working tree is in the workspace", line: "the working tree" },
  ])("$name", ({ line }) => {
    expect(stepLines(run, "show-env", "vars")).toContain(line);
  });

  it("GITHUB_EVENT_PATH holds the event payload", () => {
    expect(stepLines(run, "show-env", "event")).toEqual(["from the payload"]);
  });

  it(`the github and runner contexts say the same (${CONTEXTS}#github-context)`, () => {
    expect(stepLines(run, "show-env", "context")).toEqual([
      `${REPO.sha} ${WORKSPACE} from the payload Linux show-env`,
    ]);
  });
});

describe(`hashFiles: ${EXPRESSIONS}#hashfiles`, () => {
  const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest();
  it.each([
    {
      name: "one pattern: the SHA-256 of the files' SHA-256s",
      args: "'lock/*.txt'",
      expected: () => sha256(Buffer.concat([sha256("a\n"), sha256("b\n")])).toString("hex"),
    },
    {
      name: "a ! pattern leaves files out",
      args: "'lock/*.txt', '!lock/b.txt'",
      expected: () => sha256(sha256("a\n")).toString("hex"),
    },
    { name: "no match is the empty string", args: "'nothing/**'", expected: () => "" },
  ])("$name", async ({ args, expected }) => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: echo "[\${{ hashFiles(${args}) }}]"
`,
      files: { "lock/a.txt": "a\n", "lock/b.txt": "b\n" },
    });
    expect(printed(run.lines("j"))).toEqual([`[${expected()}]`]);
  });
});
