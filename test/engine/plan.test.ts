// Job ordering by `needs`:
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds
import { describe, expect, it } from "vitest";
import { ancestorsOf, findNeedsCycle, planJobs } from "../../runner/engine/plan.js";
import type { LoadedWorkflow, WorkflowJob } from "../../runner/engine/workflow.js";
import { isSandboxedError } from "../../runner/errors/index.js";

const FILE = "ci.yml";

/** A workflow whose jobs, in file order, need the listed ids; job n is written on line 10n. */
function workflow(jobs: Record<string, string[]>): LoadedWorkflow {
  return {
    file: FILE,
    name: undefined,
    env: undefined,
    defaults: { shell: undefined, workingDirectory: undefined },
    jobs: Object.entries(jobs).map(([id, needs], n): WorkflowJob => {
      const line = 10 * (n + 1);
      return {
        id,
        name: undefined,
        needs: needs.map((need, i) => ({
          id: need,
          source: { file: FILE, line: line + 1, col: 12 + i },
        })),
        if: "success()",
        strategy: undefined,
        runsOn: undefined,
        env: undefined,
        defaults: { shell: undefined, workingDirectory: undefined },
        timeoutMinutes: undefined,
        continueOnError: false,
        outputs: undefined,
        steps: [],
        source: { file: FILE, line, col: 3 },
      };
    }),
  };
}

const DIAMOND = workflow({
  setup: [],
  lint: [],
  build: ["setup"],
  test: ["setup"],
  deploy: ["build", "test", "lint"],
});
const ids = (stages: readonly (readonly WorkflowJob[])[]) => stages.map((s) => s.map((j) => j.id));

describe("planJobs: stages in needs order", () => {
  it.each<{ name: string; jobs: Record<string, string[]>; job?: string; expect: string[][] }>([
    { name: "one job", jobs: { a: [] }, expect: [["a"]] },
    {
      name: "independent jobs share a stage, in file order",
      jobs: { b: [], a: [] },
      expect: [["b", "a"]],
    },
    { name: "a chain", jobs: { c: ["b"], b: ["a"], a: [] }, expect: [["a"], ["b"], ["c"]] },
    {
      name: "a diamond",
      jobs: {
        setup: [],
        lint: [],
        build: ["setup"],
        test: ["setup"],
        deploy: ["build", "test", "lint"],
      },
      expect: [["setup", "lint"], ["build", "test"], ["deploy"]],
    },
    {
      name: "--job pulls in what it needs, transitively",
      jobs: { setup: [], lint: [], build: ["setup"], test: ["setup"], deploy: ["build", "test"] },
      job: "deploy",
      expect: [["setup"], ["build", "test"], ["deploy"]],
    },
    { name: "--job of a leaf runs it alone", jobs: { a: [], b: ["a"] }, job: "a", expect: [["a"]] },
    {
      name: "--job ignores case",
      jobs: { a: [], Build: ["a"] },
      job: "BUILD",
      expect: [["a"], ["Build"]],
    },
    {
      name: "needs written in another case",
      jobs: { Setup: [], b: ["SETUP"] },
      expect: [["Setup"], ["b"]],
    },
  ])("$name", ({ jobs, job, expect: want }) => {
    expect(ids(planJobs(workflow(jobs), job === undefined ? {} : { job }).stages)).toEqual(want);
  });

  it("carries the matrix filter to the runner", () => {
    expect(planJobs(DIAMOND, { matrixFilter: { node: "18" } }).matrixFilter).toEqual({
      node: "18",
    });
    expect(planJobs(DIAMOND).matrixFilter).toBeUndefined();
  });

  it("an unknown --job is SBX_ENGINE_UNKNOWN_JOB listing the job ids", () => {
    expect(() => planJobs(DIAMOND, { job: "release" })).toThrow(
      expect.objectContaining({
        code: "SBX_ENGINE_UNKNOWN_JOB",
        message: "ci.yml has no job 'release'",
        hint: "jobs in ci.yml: setup, lint, build, test, deploy",
      }),
    );
  });

  it("a cycle is SBX_ENGINE_NEEDS_CYCLE at the first need of the cycle", () => {
    let error: unknown;
    try {
      planJobs(workflow({ a: [], b: ["c"], c: ["b"] }));
    } catch (e) {
      error = e;
    }
    expect(isSandboxedError(error)).toBe(true);
    expect(error).toMatchObject({
      code: "SBX_ENGINE_NEEDS_CYCLE",
      message: "needs form a cycle: b → c → b",
      hint: "remove one of these needs: b needs c; c needs b",
      source: { file: FILE, line: 21, col: 12 },
    });
  });
});

describe("findNeedsCycle", () => {
  it.each<{ name: string; jobs: Record<string, string[]>; expect: string[] | undefined }>([
    { name: "no needs", jobs: { a: [], b: [] }, expect: undefined },
    {
      name: "a diamond is no cycle",
      jobs: { a: [], b: ["a"], c: ["a"], d: ["b", "c"] },
      expect: undefined,
    },
    { name: "a job needing itself", jobs: { a: ["a"] }, expect: ["a→a"] },
    { name: "two jobs", jobs: { a: ["b"], b: ["a"] }, expect: ["a→b", "b→a"] },
    {
      name: "three jobs behind a tail",
      jobs: { t: ["a"], a: ["b"], b: ["c"], c: ["a"] },
      expect: ["a→b", "b→c", "c→a"],
    },
    { name: "case-insensitive edges", jobs: { a: ["B"], b: ["A"] }, expect: ["a→b", "b→a"] },
    { name: "unknown needs are not edges", jobs: { a: ["ghost"] }, expect: undefined },
  ])("$name", ({ jobs, expect: want }) => {
    expect(findNeedsCycle(workflow(jobs).jobs)?.map((e) => `${e.from}→${e.id}`)).toEqual(want);
  });
});

describe("ancestorsOf (job-level failure(): 'any ancestor job fails')", () => {
  it.each<{ name: string; job: string; expect: string[] }>([
    { name: "a root has none", job: "setup", expect: [] },
    { name: "direct needs", job: "build", expect: ["setup"] },
    {
      name: "transitive, in file order",
      job: "deploy",
      expect: ["setup", "lint", "build", "test"],
    },
    { name: "job id case ignored", job: "DEPLOY", expect: ["setup", "lint", "build", "test"] },
  ])("$name", ({ job, expect: want }) => {
    expect(ancestorsOf(DIAMOND, job)).toEqual(want);
  });
});
