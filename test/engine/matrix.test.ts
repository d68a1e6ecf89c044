// Matrix expansion (research G2). Rows follow the examples of
// https://docs.github.com/en/actions/how-tos/write-workflows/choose-what-workflows-do/run-job-variations
// ("RJV" below) and the strategy keys of
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstrategy
import { describe, expect, it } from "vitest";
import {
  expandMatrix,
  MAX_COMBINATIONS,
  matrixJobName,
  strategyContext,
} from "../../runner/engine/matrix.js";
import type { Combination } from "../../runner/engine/matrix.js";
import { isSandboxedError } from "../../runner/errors/index.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("expandMatrix: combinations", () => {
  it.each<{ name: string; strategy: unknown; expect: Combination[] }>([
    { name: "no strategy: one job, empty matrix", strategy: undefined, expect: [{}] },
    { name: "strategy without matrix", strategy: { "fail-fast": false }, expect: [{}] },
    {
      name: "RJV single-dimension matrix",
      strategy: { matrix: { version: [10, 12, 14] } },
      expect: [{ version: 10 }, { version: 12 }, { version: 14 }],
    },
    {
      name: "RJV multi-dimension matrix, first key outermost",
      strategy: { matrix: { os: ["ubuntu-22.04", "ubuntu-20.04"], version: [10, 12, 14] } },
      expect: [
        { os: "ubuntu-22.04", version: 10 },
        { os: "ubuntu-22.04", version: 12 },
        { os: "ubuntu-22.04", version: 14 },
        { os: "ubuntu-20.04", version: 10 },
        { os: "ubuntu-20.04", version: 12 },
        { os: "ubuntu-20.04", version: 14 },
      ],
    },
    {
      name: "RJV mapping values in a vector",
      strategy: { matrix: { node: [{ version: 14 }, { version: 20, env: "NODE_OPTIONS" }] } },
      expect: [{ node: { version: 14 } }, { node: { version: 20, env: "NODE_OPTIONS" } }],
    },
    {
      name: "RJV include: expand and add (the fruit/animal example)",
      strategy: {
        matrix: {
          fruit: ["apple", "pear"],
          animal: ["cat", "dog"],
          include: [
            { color: "green" },
            { color: "pink", animal: "cat" },
            { fruit: "apple", shape: "circle" },
            { fruit: "banana" },
            { fruit: "banana", animal: "cat" },
          ],
        },
      },
      expect: [
        { fruit: "apple", animal: "cat", color: "pink", shape: "circle" },
        { fruit: "apple", animal: "dog", color: "green", shape: "circle" },
        { fruit: "pear", animal: "cat", color: "pink" },
        { fruit: "pear", animal: "dog", color: "green" },
        { fruit: "banana" },
        { fruit: "banana", animal: "cat" },
      ],
    },
    {
      name: "RJV include: add to one combination (npm 6 on windows/16)",
      strategy: {
        matrix: {
          os: ["windows-latest", "ubuntu-latest"],
          node: [14, 16],
          include: [{ os: "windows-latest", node: 16, npm: 6 }],
        },
      },
      expect: [
        { os: "windows-latest", node: 14 },
        { os: "windows-latest", node: 16, npm: 6 },
        { os: "ubuntu-latest", node: 14 },
        { os: "ubuntu-latest", node: 16 },
      ],
    },
    {
      name: "RJV include only: each entry is a job",
      strategy: {
        matrix: {
          include: [
            { site: "production", datacenter: "site-a" },
            { site: "staging", datacenter: "site-b" },
          ],
        },
      },
      expect: [
        { site: "production", datacenter: "site-a" },
        { site: "staging", datacenter: "site-b" },
      ],
    },
    {
      name: "RJV exclude: partial matches (12 - 3 = 9 jobs)",
      strategy: {
        matrix: {
          os: ["macos-latest", "windows-latest"],
          version: [12, 14, 16],
          environment: ["staging", "production"],
          exclude: [
            { os: "macos-latest", version: 12, environment: "production" },
            { os: "windows-latest", version: 16 },
          ],
        },
      },
      expect: [
        { os: "macos-latest", version: 12, environment: "staging" },
        { os: "macos-latest", version: 14, environment: "staging" },
        { os: "macos-latest", version: 14, environment: "production" },
        { os: "macos-latest", version: 16, environment: "staging" },
        { os: "macos-latest", version: 16, environment: "production" },
        { os: "windows-latest", version: 12, environment: "staging" },
        { os: "windows-latest", version: 12, environment: "production" },
        { os: "windows-latest", version: 14, environment: "staging" },
        { os: "windows-latest", version: 14, environment: "production" },
      ],
    },
    {
      name: "RJV include is processed after exclude, so it can add an excluded one back",
      strategy: {
        matrix: {
          os: ["linux", "mac"],
          exclude: [{ os: "mac" }],
          include: [{ os: "mac" }],
        },
      },
      expect: [{ os: "linux" }, { os: "mac" }],
    },
    {
      name: "include never overwrites an original value, but may overwrite an added one",
      strategy: {
        matrix: {
          node: [18],
          include: [{ extra: "a" }, { extra: "b" }, { node: 20, extra: "c" }],
        },
      },
      expect: [
        { node: 18, extra: "b" },
        { node: 20, extra: "c" },
      ],
    },
    {
      name: "keys compare ignoring case (the matrix context is case-insensitive)",
      strategy: { matrix: { os: ["linux"], include: [{ OS: "linux", arch: "x64" }] } },
      expect: [{ os: "linux", arch: "x64" }],
    },
    {
      name: "values compare exactly: 18 is not '18'",
      strategy: { matrix: { node: [18], include: [{ node: "18", tag: "x" }] } },
      expect: [{ node: 18 }, { node: "18", tag: "x" }],
    },
    {
      name: "an included __proto__ key stays data",
      strategy: { matrix: { a: [1], include: [JSON.parse('{"__proto__": {"polluted": true}}')] } },
      expect: [JSON.parse('{"a": 1, "__proto__": {"polluted": true}}')],
    },
    {
      name: "a __proto__ key stays data",
      strategy: { matrix: JSON.parse('{"__proto__": [1]}') },
      expect: [JSON.parse('{"__proto__": 1}')],
    },
  ])("$name", ({ strategy, expect: want }) => {
    expect(expandMatrix(strategy).combinations).toEqual(want);
  });

  it("exactly 256 combinations are allowed (16 × 16)", () => {
    const result = expandMatrix({ matrix: { a: range(16), b: range(16) } });
    expect(result.combinations).toHaveLength(MAX_COMBINATIONS);
  });

  it("exclude can bring a larger product under the cap", () => {
    const result = expandMatrix({ matrix: { a: range(257), exclude: [{ a: 0 }] } });
    expect(result.combinations).toHaveLength(256);
  });
});

describe("expandMatrix: strategy keys", () => {
  it.each<{ name: string; strategy: unknown; failFast: boolean; maxParallel: number | undefined }>([
    {
      name: "fail-fast defaults to true",
      strategy: { matrix: { a: [1] } },
      failFast: true,
      maxParallel: undefined,
    },
    {
      name: "fail-fast false",
      strategy: { "fail-fast": false },
      failFast: false,
      maxParallel: undefined,
    },
    { name: "max-parallel", strategy: { "max-parallel": 2 }, failFast: true, maxParallel: 2 },
    { name: "no strategy", strategy: undefined, failFast: true, maxParallel: undefined },
  ])("$name", ({ strategy, failFast, maxParallel }) => {
    expect(expandMatrix(strategy)).toMatchObject({ failFast, maxParallel });
  });

  it("strategy context: job-index, job-total, and max-parallel defaulting to the total", () => {
    const expansion = expandMatrix({ matrix: { a: [1, 2, 3] } });
    expect(strategyContext(expansion, 1)).toEqual({
      "fail-fast": true,
      "job-index": 1,
      "job-total": 3,
      "max-parallel": 3,
    });
  });
});

describe("expandMatrix: errors (SBX_ENGINE_MATRIX)", () => {
  const source = { file: "ci.yml", line: 8, col: 7 };
  it.each<{ name: string; strategy: unknown; message: RegExp; hint: RegExp }>([
    {
      name: "257 combinations (one over the cap)",
      strategy: { matrix: { a: range(257) } },
      message: /^the matrix has 257 combinations; GitHub allows at most 256$/,
      hint: /split the job/,
    },
    {
      name: "a product too large to build",
      strategy: { matrix: { a: range(1000), b: range(1000) } },
      message: /^the matrix vectors make 1000000 combinations/,
      hint: /fewer values/,
    },
    {
      name: "an empty vector",
      strategy: { matrix: { os: [] } },
      message: /^matrix vector 'os' has no values$/,
      hint: /at least one value/,
    },
    {
      name: "a vector that is not a sequence",
      strategy: { matrix: { os: "linux" } },
      message: /^matrix vector 'os' must be a sequence, not "linux"$/,
      hint: /os: \["linux"\]/,
    },
    {
      name: "an exclude key that is no vector",
      strategy: { matrix: { os: ["linux"], exclude: [{ arch: "x64" }] } },
      message: /^matrix exclude key 'arch' matches no matrix vector$/,
      hint: /exclude may name only: os/,
    },
    {
      name: "everything excluded",
      strategy: { matrix: { os: ["linux"], exclude: [{ os: "linux" }] } },
      message: /^the matrix has no combinations$/,
      hint: /exclude fewer/,
    },
    {
      name: "an empty matrix",
      strategy: { matrix: {} },
      message: /^the matrix has no combinations$/,
      hint: /at least one vector or include entry/,
    },
    {
      name: "include that is not a list of mappings",
      strategy: { matrix: { os: ["linux"], include: ["x"] } },
      message: /^matrix include must be a sequence of mappings$/,
      hint: /include:/,
    },
    {
      name: "fail-fast that is not a boolean",
      strategy: { "fail-fast": "no" },
      message: /^strategy\.fail-fast must be true or false, not "no"$/,
      hint: /fail-fast: false/,
    },
    {
      name: "max-parallel 0",
      strategy: { "max-parallel": 0 },
      message: /^strategy\.max-parallel must be a positive number, not 0$/,
      hint: /max-parallel: 2/,
    },
    {
      name: "a matrix that is a string",
      strategy: { matrix: "nope" },
      message: /^strategy\.matrix must be a mapping$/,
      hint: /matrix:/,
    },
  ])("$name", ({ strategy, message, hint }) => {
    let error: unknown;
    try {
      expandMatrix(strategy, { source });
    } catch (e) {
      error = e;
    }
    expect(isSandboxedError(error)).toBe(true);
    if (!isSandboxedError(error)) return;
    expect(error.code).toBe("SBX_ENGINE_MATRIX");
    expect(error.message).toMatch(message);
    expect(error.hint).toMatch(hint);
    expect(error.source).toEqual(source);
  });
});

describe("expandMatrix: --matrix filter", () => {
  const strategy = { matrix: { node: [18, 20], os: ["linux", "mac"] } };
  it.each<{ name: string; filter: Record<string, string>; expect: Combination[] }>([
    {
      name: "one key",
      filter: { node: "18" },
      expect: [
        { node: 18, os: "linux" },
        { node: 18, os: "mac" },
      ],
    },
    { name: "two keys", filter: { node: "20", os: "mac" }, expect: [{ node: 20, os: "mac" }] },
    {
      name: "key case ignored",
      filter: { OS: "linux", node: "20" },
      expect: [{ node: 20, os: "linux" }],
    },
    {
      name: "a key the matrix lacks keeps everything",
      filter: { arch: "x64", node: "20" },
      expect: [
        { node: 20, os: "linux" },
        { node: 20, os: "mac" },
      ],
    },
  ])("$name", ({ filter, expect: want }) => {
    expect(expandMatrix(strategy, { filter }).combinations).toEqual(want);
  });

  it("no match is an error listing the combinations", () => {
    expect(() => expandMatrix(strategy, { filter: { node: "22" } })).toThrow(
      expect.objectContaining({
        code: "SBX_ENGINE_MATRIX",
        message: "no matrix combination matches node=22",
        hint: "combinations: (18, linux) (18, mac) (20, linux) (20, mac)",
      }),
    );
  });
});

describe("matrixJobName (GitHub's display name of a matrix job)", () => {
  it.each<{ name: string; job: string; combination: Combination; expect: string }>([
    {
      name: "values in order",
      job: "build",
      combination: { node: 18, os: "ubuntu" },
      expect: "build (18, ubuntu)",
    },
    { name: "no matrix", job: "build", combination: {}, expect: "build" },
    { name: "boolean and null", job: "t", combination: { a: true, b: null }, expect: "t (true, )" },
    {
      name: "mapping value as JSON",
      job: "t",
      combination: { node: { v: 20 } },
      expect: 't ({"v":20})',
    },
  ])("$name", ({ job, combination, expect: want }) => {
    expect(matrixJobName(job, combination)).toBe(want);
  });
});
