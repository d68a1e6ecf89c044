// The label-set decision (runner/scheduler/match.ts): GitHub's subset rule, our default deny.
// https://docs.github.com/en/actions/hosting-your-own-runners/managing-self-hosted-runners/using-self-hosted-runners-in-a-workflow
import { describe, expect, it } from "vitest";
import {
  matchLabelSet,
  outcomeOf,
  policySummary,
  runnerLabels,
  runnerSignal,
} from "../../runner/scheduler/index.js";

const SETS = [
  { name: "default", labels: ["sandboxed"] },
  { name: "large", labels: ["sandboxed", "large"] },
  { name: "gpu", labels: ["sandboxed-gpu"] },
];

describe("matchLabelSet", () => {
  it.each([
    // Served
    { name: "one label", labels: ["sandboxed"], expect: "default" },
    { name: "case does not matter", labels: ["SandBoxed"], expect: "default" },
    {
      name: "with the default labels",
      labels: ["self-hosted", "linux", "sandboxed"],
      expect: "default",
    },
    { name: "the tighter set wins", labels: ["sandboxed", "large"], expect: "large" },
    { name: "order does not matter", labels: ["large", "sandboxed"], expect: "large" },
    { name: "a set of its own", labels: ["sandboxed-gpu", "x64"], expect: "gpu" },
    // Ignored
    { name: "no labels", labels: [], reason: "no-labels" },
    { name: "GitHub-hosted label", labels: ["ubuntu-latest"], reason: "not-ours" },
    { name: "one label too many", labels: ["sandboxed", "windows"], reason: "not-ours" },
    { name: "labels from two sets", labels: ["sandboxed-gpu", "large"], reason: "not-ours" },
    { name: "prefix is not a label", labels: ["sandbox"], reason: "not-ours" },
    { name: "only self-hosted", labels: ["self-hosted"], reason: "default-labels-only" },
    {
      name: "only default labels",
      labels: ["self-hosted", "linux", "x64"],
      reason: "default-labels-only",
    },
  ])("$name", (row) => {
    const verdict = matchLabelSet(row.labels, SETS);
    if (row.expect) {
      expect(verdict).toMatchObject({ verdict: "serve", labelSet: { name: row.expect } });
    } else {
      expect(verdict).toEqual({ verdict: "ignore", reason: row.reason });
    }
  });

  it("registers runners with the set's labels and the three defaults", () => {
    expect(runnerLabels(SETS[1]!)).toEqual(["self-hosted", "linux", "x64", "sandboxed", "large"]);
  });
});

describe("runnerSignal", () => {
  it.each([
    {
      name: "taken",
      line: "2026-11-24 07:00:00Z: Running job: build (ubuntu)",
      expect: { kind: "taken", jobName: "build (ubuntu)" },
    },
    {
      name: "finished",
      line: "2026-11-24 07:00:09Z: Job build completed with result: Succeeded",
      expect: { kind: "finished", jobName: "build", result: "Succeeded" },
    },
    {
      name: "failed",
      line: "Job test completed with result: Failed",
      expect: { kind: "finished", jobName: "test", result: "Failed" },
    },
    { name: "listening", line: "2026-11-24 07:00:00Z: Listening for Jobs", expect: undefined },
    { name: "a job's own output", line: "echo Running jobs: 3", expect: undefined },
  ])("$name", ({ line, expect: want }) => {
    expect(runnerSignal(line)).toEqual(want);
  });
});

describe("outcomeOf", () => {
  const report = (extra: object): never =>
    ({
      outcome: "success",
      steps: [],
      peaks: {},
      limits: {},
      timings: { totalMs: 1 },
      ...extra,
    }) as never;
  it.each([
    {
      name: "refused first",
      input: { taken: false, refused: "over ceilings", error: "x" },
      outcome: "refused",
    },
    { name: "host error", input: { taken: true, error: "JIT failed" }, outcome: "infrastructure" },
    {
      name: "breach beats the runner",
      input: {
        taken: true,
        runnerResult: "Succeeded",
        report: report({
          breach: { kind: "memory", message: "memory limit 1GiB exceeded", limit: 1 },
        }),
      },
      outcome: "limit",
    },
    {
      name: "broken sandbox",
      input: { taken: false, report: report({ outcome: "infrastructure", error: "did not boot" }) },
      outcome: "infrastructure",
    },
    { name: "never taken", input: { taken: false, report: report({}) }, outcome: "idle" },
    {
      name: "cancelled before taken",
      input: { taken: false, abortedFor: "cancelled" as const, report: report({}) },
      outcome: "cancelled",
    },
    {
      name: "succeeded",
      input: { taken: true, runnerResult: "Succeeded", report: report({}) },
      outcome: "success",
    },
    {
      name: "failed steps",
      input: { taken: true, runnerResult: "Failed", report: report({ outcome: "failure" }) },
      outcome: "failure",
    },
    {
      name: "runner gave no result",
      input: { taken: true, report: report({ outcome: "failure" }) },
      outcome: "failure",
    },
  ])("$name", ({ input, outcome }) => {
    expect(outcomeOf(input).outcome).toBe(outcome);
  });

  it("names infrastructure errors the way the issue asks", () => {
    expect(outcomeOf({ taken: true, error: "boom" }).title).toBe("infrastructure_error: boom");
  });
});

describe("policySummary", () => {
  const base = {
    apiVersion: "sandboxed/v1",
    kind: "Policy",
    files: ["policies/default.yml"],
    enforce: false,
    isolation: { backend: "vm", runtime: "auto", sudo: true },
    resources: {
      cpus: 2,
      memoryBytes: 4 * 2 ** 30,
      diskBytes: 20 * 2 ** 30,
      pids: 4096,
      timeoutSeconds: 3600,
    },
    origins: {},
  } as const;
  const net = (mode: "allowlist" | "audit" | "none") =>
    ({
      mode,
      bandwidth: { egressBps: 1, ingressBps: 1 },
      allow: [
        {
          kind: "host",
          host: "github.com",
          wildcard: false,
          ports: [443],
          source: { file: "p", line: 1, col: 1 },
        },
      ],
    }) as never;
  it.each([
    {
      name: "enforced allowlist",
      mode: "allowlist" as const,
      has: "egress allowlist: github.com",
      not: "audit",
    },
    {
      name: "audit mode says so",
      mode: "audit" as const,
      has: "audit mode: nothing is blocked",
      not: "none",
    },
    { name: "no network", mode: "none" as const, has: "network: none", not: "audit" },
  ])("$name", ({ mode, has, not }) => {
    const text = policySummary({ ...base, network: net(mode) } as never, "default");
    expect(text).toContain(has);
    expect(text).not.toContain(not);
    expect(text).toContain("cpus 2; memory 4GiB; disk 20GiB");
  });
});
