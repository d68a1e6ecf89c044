// Environment files and workflow commands in whole workflows through the engine, each job in the
// TEST-ONLY host sandbox (test/support/host-sandbox.ts), plus masking of secrets and ::add-mask::
// values everywhere a user can see text: log lines, step names, annotations, the summary.
import { beforeAll, describe, expect, it } from "vitest";
import { printed, runFixture, stepLines } from "../support/run-fixture.js";
import type { FixtureRun } from "../support/run-fixture.js";

const COMMANDS =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands";
const SYNTAX = "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax";
const SECRETS =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#secrets-context";

describe(`environment files: ${COMMANDS}#environment-files`, () => {
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    outputs:
      multi: \${{ steps.write.outputs.multi }}
    steps:
      - id: write
        run: |
          echo "SINGLE=one=two" >> "$GITHUB_ENV"
          {
            echo "MULTI<<EOF_MARK"
            echo "line 1"
            echo "line 2"
            echo "EOF_MARK"
          } >> "$GITHUB_ENV"
          {
            echo "multi<<ghadelimiter_123"
            printf 'out 1\\nout 2\\n'
            echo "ghadelimiter_123"
          } >> "$GITHUB_OUTPUT"
          mkdir -p "$RUNNER_TEMP/tools"
          printf '#!/bin/sh\\necho tool-from-path\\n' > "$RUNNER_TEMP/tools/mytool"
          chmod +x "$RUNNER_TEMP/tools/mytool"
          echo "$RUNNER_TEMP/tools" >> "$GITHUB_PATH"
          command -v mytool || echo "not on PATH in the same step"
          echo "same step: [\${SINGLE:-}]"
          echo "# Summary title" >> "$GITHUB_STEP_SUMMARY"
      - id: read
        run: |
          echo "SINGLE=$SINGLE"
          printf '%s\\n' "$MULTI"
          echo "expr=\${{ env.SINGLE }}"
          mytool
          echo "PATH starts with $(echo "$PATH" | cut -d: -f1)"
          echo "- second step" >> "$GITHUB_STEP_SUMMARY"
      - id: outputs
        env:
          MULTI_OUT: \${{ steps.write.outputs.multi }}
        run: printf '[%s]\\n' "$MULTI_OUT"
`,
    });
  });

  it.each([
    { name: "GITHUB_ENV NAME=value splits on the first =", id: "read", line: "SINGLE=one=two" },
    { name: "GITHUB_ENV heredoc: line 1", id: "read", line: "line 1" },
    { name: "GITHUB_ENV heredoc: line 2", id: "read", line: "line 2" },
    { name: "GITHUB_ENV reaches the env context", id: "read", line: "expr=one=two" },
    { name: "GITHUB_PATH: later steps find the command", id: "read", line: "tool-from-path" },
    {
      name: "GITHUB_PATH entries come first",
      id: "read",
      line: "PATH starts with /sandbox/work/_temp/tools",
    },
    {
      name: "GITHUB_PATH: not in the same step",
      id: "write",
      line: "not on PATH in the same step",
    },
    { name: "GITHUB_ENV: not in the same step", id: "write", line: "same step: []" },
    { name: "GITHUB_OUTPUT heredoc keeps inner newlines", id: "outputs", line: "[out 1" },
    { name: "GITHUB_OUTPUT heredoc drops the last newline", id: "outputs", line: "out 2]" },
  ])("$name", ({ id, line }) => {
    expect(stepLines(run, "j", id)).toContain(line);
  });

  it(`GITHUB_STEP_SUMMARY of every step, in order (${COMMANDS}#adding-a-job-summary)`, () => {
    expect(run.job("j").summary).toBe("# Summary title\n- second step\n");
  });

  it("a multi-line output reaches the job's outputs", () => {
    expect(run.job("j").outputs).toEqual({ multi: "out 1\nout 2" });
  });

  it(`a heredoc without its delimiter fails the step (${COMMANDS}#multiline-strings)`, async () => {
    const bad = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - id: bad
        run: |
          echo "X<<END" >> "$GITHUB_ENV"
          echo "value" >> "$GITHUB_ENV"
`,
    });
    expect(bad.step("j", "bad").outcome).toBe("failure");
    expect(
      bad
        .job("j")
        .annotations.map((a) => a.message)
        .join("\n"),
    ).toMatch(/delimiter/i);
  });
});

describe(`workflow commands: ${COMMANDS}`, () => {
  it(`::group:: and ::endgroup:: (${COMMANDS}#grouping-log-lines)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          echo "::group::My title"
          echo inside
          echo "::endgroup::"
`,
    });
    const groups = run.events.flatMap((e) => (e.type === "group" ? [e] : []));
    expect(groups.map((g) => g.title)).toEqual(["My title", undefined]);
    expect(printed(run.lines("j"))).toEqual(["inside"]);
  });

  it(`::error file=,line=,col=:: makes an annotation and does not fail the step (${COMMANDS}#setting-an-error-message)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          echo "::error file=app.js,line=10,col=15,title=Broken::Something failed"
          echo "::warning file=$GITHUB_WORKSPACE/src/a.ts,line=3::Careful"
          echo "::notice::Just so you know"
`,
    });
    expect(run.job("j").annotations).toEqual([
      {
        level: "error",
        message: "Something failed",
        title: "Broken",
        file: "app.js",
        line: 10,
        col: 15,
        origin: "step",
      },
      { level: "warning", message: "Careful", file: "src/a.ts", line: 3, origin: "step" },
      { level: "notice", message: "Just so you know", origin: "step" },
    ]);
    expect(run.job("j").result).toBe("success");
    expect(run.events.filter((e) => e.type === "annotation")).toHaveLength(3);
  });

  it(`::stop-commands:: turns command processing off until the token (${COMMANDS}#stopping-and-starting-workflow-commands)`, async () => {
    const run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    steps:
      - run: |
          token="pause-$((6 * 7))-token"
          echo "::stop-commands::$token"
          echo "::warning::not an annotation"
          echo "::$token::"
          echo "::warning::an annotation again"
`,
    });
    expect(printed(run.lines("j"))).toContain("::warning::not an annotation");
    expect(run.job("j").annotations.map((a) => a.message)).toEqual(["an annotation again"]);
  });
});

describe(`masking: ${COMMANDS}#masking-a-value-in-a-log and ${SECRETS}`, () => {
  const SECRET = "sup3r-s3cret-value";
  // Built by the script, so the value never appears in the workflow text or a step name.
  const MASKED = "mask-42-value";
  let run: FixtureRun;
  beforeAll(async () => {
    run = await runFixture({
      workflow: `on: push
jobs:
  j:
    runs-on: x
    outputs:
      leaked: \${{ steps.add.outputs.value }}
    steps:
      - id: add
        run: |
          v="mask-$((6 * 7))-value"
          echo "::add-mask::$v"
          echo "same step: $v"
          echo "value=$v" >> "$GITHUB_OUTPUT"
      - id: later
        env:
          FROM_SECRET: \${{ secrets.TOKEN }}
        run: |
          echo "later step: \${{ steps.add.outputs.value }}"
          echo "secret by expression: \${{ secrets.TOKEN }}"
          echo "secret by env: $FROM_SECRET"
          echo "::warning title=\${{ steps.add.outputs.value }}::about $FROM_SECRET"
          echo "summary $FROM_SECRET \${{ steps.add.outputs.value }}" >> "$GITHUB_STEP_SUMMARY"
          echo "to stderr $FROM_SECRET" >&2
          echo "::group::group $FROM_SECRET"
          echo "::endgroup::"
      - name: Step named \${{ secrets.TOKEN }}
        run: echo "\${{ steps.add.outputs.value }}"
      - id: literal
        run: echo "literal ${MASKED}"
`,
      secrets: { TOKEN: SECRET },
    });
  });

  it.each([
    { name: "::add-mask:: in the same step", id: "add", line: "same step: ***" },
    { name: "::add-mask:: in a later step", id: "later", line: "later step: ***" },
    { name: "a secret by expression", id: "later", line: "secret by expression: ***" },
    { name: "a secret through env", id: "later", line: "secret by env: ***" },
    { name: "a secret on stderr", id: "later", line: "to stderr ***" },
  ])("$name", ({ id, line }) => {
    expect(stepLines(run, "j", id)).toContain(line);
  });

  it("the values appear nowhere: no event, annotation, summary, step name or header", () => {
    const everything = JSON.stringify({ events: run.events, report: run.report });
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(MASKED);
    expect(run.job("j").annotations[0]).toMatchObject({ title: "***", message: "about ***" });
    expect(run.job("j").summary).toBe("summary *** ***\n");
    expect(run.job("j").steps[2]!.name).toBe("Step named ***");
    expect(run.step("j", "literal").name).toBe('Run echo "literal ***"');
    expect(run.lines("j", 2)).toContain('##[group]Run echo "***"');
  });

  it("the ::add-mask:: line itself is not printed", () => {
    expect(printed(run.lines("j")).some((l) => l.includes("add-mask"))).toBe(false);
  });

  it(`a job output holding a masked value is skipped, with GitHub's warning (${SYNTAX}#jobsjob_idoutputs)`, () => {
    expect(run.job("j").outputs).toEqual({});
    expect(run.job("j").annotations).toContainEqual({
      level: "warning",
      message: "Skip output 'leaked' since it may contain secret.",
      origin: "runner",
    });
  });
});
