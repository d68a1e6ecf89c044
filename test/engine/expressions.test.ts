// Expression evaluation on @actions/expressions, and what the runner adds (research §1.4 G1, G4,
// G5, G6). Rows cite https://docs.github.com/en/actions/reference/workflows-and-actions/expressions
// unless they say otherwise. The package's cross-language conformance files (testdata/*.json) are
// not in the published npm tarball (checked for 0.3.61), so these rows are our own.
import { describe, expect, it } from "vitest";
import {
  coerceToString,
  evaluateCondition,
  evaluateExpression,
  evaluateToken,
} from "../../runner/engine/expressions.js";
import type { Contexts, StatusContext } from "../../runner/engine/expressions.js";
import { isSandboxedError } from "../../runner/errors/index.js";
import type { SandboxedError } from "../../runner/errors/index.js";

// Tokens come from loadWorkflow (the parser; test/support/json-imports.ts lets Node load it).
const { loadWorkflow } = await import("../../runner/engine/workflow.js");

const CONTEXTS: Contexts = {
  github: { event_name: "push", ref: "refs/heads/main", event: { commits: [{ id: "a1" }] } },
  env: { FOO: "upper", foo: "lower", EMPTY: "" },
  matrix: { node: 18, os: "ubuntu" },
  steps: {
    build: { outcome: "success", conclusion: "success", outputs: { version: "1.2.0" } },
    lint: { outcome: "failure", conclusion: "success", outputs: {} },
  },
  needs: { setup: { result: "success", outputs: { key: "k1" } } },
};

function thrown(f: () => unknown): SandboxedError {
  try {
    f();
  } catch (error) {
    if (isSandboxedError(error)) return error;
    throw error;
  }
  throw new Error("expected a SandboxedError");
}

describe("evaluateExpression (expressions docs: literals, operators, functions)", () => {
  it.each<{ name: string; expr: string; expect: unknown }>([
    // Literals (#literals)
    { name: "null literal", expr: "null", expect: null },
    { name: "number literal", expr: "-9.2", expect: -9.2 },
    { name: "hex literal", expr: "0xff", expect: 255 },
    { name: "exponent literal", expr: "2.99e-2", expect: 0.0299 },
    { name: "string literal with escaped quote", expr: "'It''s open'", expect: "It's open" },
    // Operators (#operators): loose equality, case-insensitive strings
    { name: "number equals numeric string", expr: "1 == '1'", expect: true },
    { name: "empty string equals 0", expr: "'' == 0", expect: true },
    { name: "strings compare ignoring case", expr: "'ABC' == 'abc'", expect: true },
    { name: "not null is true", expr: "!null", expect: true },
    { name: "&& returns the deciding operand", expr: "matrix.os && 'yes'", expect: "yes" },
    {
      name: "|| returns the first truthy operand",
      expr: "env.EMPTY || 'fallback'",
      expect: "fallback",
    },
    // Contexts (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts)
    { name: "property access", expr: "github.event_name", expect: "push" },
    { name: "index access", expr: "github['event_name']", expect: "push" },
    { name: "nested array access", expr: "github.event.commits[0].id", expect: "a1" },
    { name: "step output", expr: "steps.build.outputs.version", expect: "1.2.0" },
    { name: "needs output", expr: "needs.setup.outputs.key", expect: "k1" },
    { name: "missing property is null", expr: "github.nope.deeper", expect: null },
    { name: "object filter", expr: "steps.*.outcome", expect: ["success", "failure"] },
    { name: "context keys ignore case", expr: "MATRIX.NODE", expect: 18 },
    // G5: every context exists even when the caller gave none.
    { name: "absent vars context is empty", expr: "vars.ANYTHING", expect: null },
    { name: "absent secrets context is empty", expr: "secrets.TOKEN == ''", expect: true },
    { name: "absent jobs context is empty", expr: "toJSON(jobs)", expect: "{}" },
    // G6: env is case-sensitive, as the runner's env context on Linux.
    { name: "env FOO", expr: "env.FOO", expect: "upper" },
    { name: "env foo is another variable", expr: "env.foo", expect: "lower" },
    { name: "env Foo does not exist", expr: "env.Foo", expect: null },
    // Functions (#functions)
    {
      name: "contains on a string ignores case",
      expr: "contains('Hello world', 'WORLD')",
      expect: true,
    },
    {
      name: "contains on an array",
      expr: "contains(fromJSON('[\"a\",\"b\"]'), 'b')",
      expect: true,
    },
    { name: "startsWith", expr: "startsWith(github.ref, 'refs/heads/')", expect: true },
    { name: "endsWith", expr: "endsWith(github.ref, '/main')", expect: true },
    { name: "format", expr: "format('{0}-{1}', matrix.os, matrix.node)", expect: "ubuntu-18" },
    { name: "format escapes braces", expr: "format('{{0}} {0}', 'x')", expect: "{0} x" },
    { name: "join", expr: "join(fromJSON('[1,2,3]'), '+')", expect: "1+2+3" },
    {
      name: "toJSON pretty-prints",
      expr: "toJSON(matrix)",
      expect: '{\n  "node": 18,\n  "os": "ubuntu"\n}',
    },
    {
      name: "toJSON of the case-sensitive env",
      expr: "toJSON(env)",
      expect: JSON.stringify(CONTEXTS.env, null, 2),
    },
    {
      name: "fromJSON object",
      expr: "fromJSON('{\"a\":[1,true,null]}')",
      expect: { a: [1, true, null] },
    },
    { name: "function names ignore case", expr: "STARTSWITH('abc', 'A')", expect: true },
  ])("$name", ({ expr, expect: want }) => {
    expect(evaluateExpression(expr, CONTEXTS)).toEqual(want);
  });

  it("calls the injected hashFiles with every pattern", () => {
    const seen: string[][] = [];
    const hashFiles = (patterns: readonly string[]) => {
      seen.push([...patterns]);
      return "abc123";
    };
    expect(
      evaluateExpression(
        "format('deps-{0}', hashFiles('**/package-lock.json', '!x/**'))",
        {},
        { hashFiles },
      ),
    ).toBe("deps-abc123");
    expect(seen).toEqual([["**/package-lock.json", "!x/**"]]);
  });
});

describe("expression errors are SBX_ENGINE_EXPRESSION naming the expression", () => {
  const source = { file: "ci.yml", line: 7, col: 12 };
  it.each<{ name: string; expr: string; message: RegExp; hint: RegExp }>([
    {
      name: "syntax error",
      expr: "github.ref ==",
      message: /^\$\{\{ github\.ref == \}\}: Unexpected end of expression/,
      hint: /expressions/,
    },
    {
      name: "unknown context",
      expr: "secret.TOKEN",
      message: /Unrecognized named-value: 'secret'/,
      hint: /contexts are: github, env, vars, secrets/,
    },
    {
      name: "unknown function",
      expr: "frobnicate(1)",
      message: /Unrecognized function: 'frobnicate'/,
      hint: /expressions/,
    },
    {
      name: "status function outside if:",
      expr: "success()",
      message: /Unrecognized function: 'success'/,
      hint: /only in if: conditions/,
    },
    {
      name: "hashFiles where the runner gave none",
      expr: "hashFiles('x')",
      message: /Unrecognized function: 'hashFiles'/,
      hint: /only while a job runs/,
    },
    {
      name: "fromJSON of invalid JSON",
      expr: "fromJSON('{x')",
      message: /Error parsing JSON/,
      hint: /expressions/,
    },
  ])("$name", ({ expr, message, hint }) => {
    const error = thrown(() => evaluateExpression(expr, CONTEXTS, { source }));
    expect(error.code).toBe("SBX_ENGINE_EXPRESSION");
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
    expect(error.source).toEqual(source);
  });
});

describe("evaluateCondition: status functions (expressions#status-check-functions)", () => {
  const step = (jobStatus: "success" | "failure" | "cancelled"): StatusContext => ({
    level: "step",
    jobStatus,
  });
  const job = (
    ancestors: Record<string, "success" | "failure" | "cancelled" | "skipped">,
    cancelled = false,
  ): StatusContext => ({ level: "job", cancelled, ancestors });

  it.each<{ name: string; condition: string; status: StatusContext; expect: boolean }>([
    // Step level: from the job's status so far.
    {
      name: "step: success() while the job succeeds",
      condition: "success()",
      status: step("success"),
      expect: true,
    },
    {
      name: "step: success() after a failed step",
      condition: "success()",
      status: step("failure"),
      expect: false,
    },
    {
      name: "step: failure() after a failed step",
      condition: "failure()",
      status: step("failure"),
      expect: true,
    },
    {
      name: "step: failure() while the job succeeds",
      condition: "failure()",
      status: step("success"),
      expect: false,
    },
    {
      name: "step: cancelled() once cancelled",
      condition: "cancelled()",
      status: step("cancelled"),
      expect: true,
    },
    {
      name: "step: success() once cancelled",
      condition: "success()",
      status: step("cancelled"),
      expect: false,
    },
    {
      name: "step: always() once cancelled",
      condition: "always()",
      status: step("cancelled"),
      expect: true,
    },
    {
      name: "step: !cancelled() after a failure",
      condition: "!cancelled()",
      status: step("failure"),
      expect: true,
    },
    {
      name: "step: wrapped condition reads contexts",
      condition: "success() && (matrix.node == 18)",
      status: step("success"),
      expect: true,
    },
    {
      name: "step: truthiness of a string result",
      condition: "success() && env.EMPTY",
      status: step("success"),
      expect: false,
    },
    // Job level: from every ancestor, transitively ("any ancestor job fails").
    {
      name: "job: success() when all needs succeeded",
      condition: "success()",
      status: job({ a: "success", b: "success" }),
      expect: true,
    },
    {
      name: "job: failure() when all needs succeeded",
      condition: "failure()",
      status: job({ a: "success" }),
      expect: false,
    },
    {
      name: "job: success() when one need failed",
      condition: "success()",
      status: job({ a: "success", b: "failure" }),
      expect: false,
    },
    {
      name: "job: failure() when one need failed",
      condition: "failure()",
      status: job({ a: "success", b: "failure" }),
      expect: true,
    },
    {
      name: "job: failure() when an ancestor of a need failed",
      condition: "failure()",
      status: job({ root: "failure", mid: "success" }),
      expect: true,
    },
    // G4: a skipped need is neither success nor failure.
    {
      name: "job: success() with a skipped need",
      condition: "success()",
      status: job({ a: "skipped" }),
      expect: false,
    },
    {
      name: "job: failure() with a skipped need",
      condition: "failure()",
      status: job({ a: "skipped" }),
      expect: false,
    },
    {
      name: "job: always() with a skipped need",
      condition: "always()",
      status: job({ a: "skipped" }),
      expect: true,
    },
    { name: "job: success() with no needs", condition: "success()", status: job({}), expect: true },
    {
      name: "job: success() in a cancelled run",
      condition: "success()",
      status: job({ a: "success" }, true),
      expect: false,
    },
    {
      name: "job: cancelled() in a cancelled run",
      condition: "cancelled()",
      status: job({}, true),
      expect: true,
    },
    // The job-level argument forms: success('a', 'b'), failure('b').
    {
      name: "job: success('a') ignores b",
      condition: "success('a')",
      status: job({ a: "success", b: "failure" }),
      expect: true,
    },
    {
      name: "job: success('a', 'b')",
      condition: "success('a', 'b')",
      status: job({ a: "success", b: "failure" }),
      expect: false,
    },
    {
      name: "job: failure('b')",
      condition: "failure('b')",
      status: job({ a: "success", b: "failure" }),
      expect: true,
    },
    {
      name: "job: failure('a')",
      condition: "failure('a')",
      status: job({ a: "success", b: "failure" }),
      expect: false,
    },
    {
      name: "job: job ids ignore case",
      condition: "success('BUILD')",
      status: job({ build: "success" }),
      expect: true,
    },
  ])("$name", ({ condition, status, expect: want }) => {
    expect(evaluateCondition(condition, CONTEXTS, status)).toBe(want);
  });

  it("job: success('x') for a job not needed is an error listing the needed ones", () => {
    const error = thrown(() =>
      evaluateCondition("success('deploy')", CONTEXTS, job({ build: "success", test: "success" })),
    );
    expect(error.code).toBe("SBX_ENGINE_EXPRESSION");
    expect(error.message).toBe(
      "${{ success('deploy') }}: success('deploy'): 'deploy' is not a job this job needs",
    );
    expect(error.hint).toBe("add it to needs, or name one of: build, test");
  });

  it("step: status functions take no arguments", () => {
    const error = thrown(() => evaluateCondition("success('a')", CONTEXTS, step("success")));
    expect(error.message).toMatch(/Too many parameters supplied/);
  });
});

describe("coerceToString (expressions#literals: GitHub's string coercion)", () => {
  it.each<{ name: string; value: unknown; expect: string }>([
    { name: "null is empty", value: null, expect: "" },
    { name: "undefined is empty", value: undefined, expect: "" },
    { name: "true", value: true, expect: "true" },
    { name: "false", value: false, expect: "false" },
    { name: "integer", value: 42, expect: "42" },
    { name: "decimal without trailing zeros", value: 1.5, expect: "1.5" },
    { name: "float noise trimmed to 15 digits", value: 0.1 + 0.2, expect: "0.3" },
    { name: "string as is", value: "x y", expect: "x y" },
    { name: "mapping", value: { a: 1 }, expect: "Object" },
    { name: "sequence", value: [1], expect: "Array" },
  ])("$name", ({ value, expect: want }) => {
    expect(coerceToString(value)).toBe(want);
  });
});

describe("evaluateToken: template tokens to plain values (research G1)", () => {
  const yaml = `on: push
jobs:
  a:
    runs-on: x
    strategy:
      fail-fast: false
      max-parallel: 2
      matrix:
        node: [18, 20]
        list: \${{ fromJSON('[[1, 2], 3]') }}
        \${{ insert }}: \${{ fromJSON('{"os":["linux"]}') }}
        include:
          - \${{ github.event_name }}: yes
    env:
      PLAIN: text
      NUMBER: 3
      FLAG: true
      NOTHING:
      JOINED: ref=\${{ github.ref }} node=\${{ matrix.node }}
    steps:
      - run: echo \${{ matrix.node }}
        env: \${{ fromJSON('{"WHOLE":"mapping"}') }}
      - run: echo
        env:
          \${{ insert }}: \${{ github.ref }}
`;

  it("walks literals, expressions, embedded expressions, sequences and insert", async () => {
    const wf = await loadWorkflow("ci.yml", yaml);
    const [job] = wf.jobs;
    expect(evaluateToken(job!.strategy!, CONTEXTS)).toEqual({
      "fail-fast": false,
      "max-parallel": 2,
      matrix: {
        node: [18, 20],
        list: [[1, 2], 3], // a sequence-valued expression stays one value
        os: ["linux"],
        include: [{ push: "yes" }], // an expression key is evaluated and coerced to string
      },
    });
    // The schema reads env values as strings (loose-value-type string), as GitHub does.
    expect(evaluateToken(job!.env!, CONTEXTS)).toEqual({
      PLAIN: "text",
      NUMBER: "3",
      FLAG: "true",
      NOTHING: "",
      JOINED: "ref=refs/heads/main node=18",
    });
    expect(evaluateToken(job!.steps[0]!.env!, CONTEXTS)).toEqual({ WHOLE: "mapping" });
    const run = job!.steps[0]!.kind === "run" ? job!.steps[0]!.run : undefined;
    expect(evaluateToken(run!, CONTEXTS)).toBe("echo 18");
  });

  it("refuses ${{ insert }} of something that is not a mapping, at the value's position", async () => {
    const wf = await loadWorkflow("ci.yml", yaml);
    const error = thrown(() =>
      evaluateToken(wf.jobs[0]!.steps[1]!.env!, CONTEXTS, { file: "ci.yml" }),
    );
    expect(error.code).toBe("SBX_ENGINE_EXPRESSION");
    expect(error.message).toBe("${{ insert }}: ${{ insert }} needs a mapping as its value");
    expect(error.source).toEqual({ file: "ci.yml", line: 25, col: 26 });
  });

  it("reports an evaluation error at the token's position", async () => {
    const wf = await loadWorkflow(
      "ci.yml",
      "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      X: ${{ fromJSON('nope') }}\n    steps: [{ run: echo }]\n",
    );
    const error = thrown(() => evaluateToken(wf.jobs[0]!.env!, CONTEXTS, { file: "ci.yml" }));
    expect(error.message).toMatch(/^\$\{\{ fromJSON\('nope'\) \}\}: Error parsing JSON/);
    expect(error.source).toEqual({ file: "ci.yml", line: 6, col: 10 });
  });

  it("keeps a __proto__ key as data", async () => {
    const wf = await loadWorkflow(
      "ci.yml",
      "on: push\njobs:\n  a:\n    runs-on: x\n    env:\n      __proto__: x\n    steps: [{ run: echo }]\n",
    );
    const env = evaluateToken(wf.jobs[0]!.env!, CONTEXTS) as Record<string, unknown>;
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.keys(env)).toEqual(["__proto__"]);
  });
});
