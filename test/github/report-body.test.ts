// What reportJob sends (runner/github/report-body.ts): GitHub's size limits on both sides of
// each boundary.
import { describe, expect, it } from "vitest";
import type { Annotation, JobReport } from "../../runner/github/index.js";
import {
  checkRunBodies,
  MAX_ANNOTATIONS_PER_REQUEST,
  MAX_SUMMARY_CHARS,
  statusBody,
  truncate,
  truncateSummary,
} from "../../runner/github/report-body.js";

const report = (fields: Partial<JobReport> = {}): JobReport => ({
  name: "sandboxed: build",
  conclusion: "success",
  title: "Job succeeded in 42 s",
  summary: "## Policy\n\nall fine",
  ...fields,
});

const annotations = (n: number): Annotation[] =>
  Array.from({ length: n }, (_, i) => ({
    path: ".github/workflows/ci.yml",
    startLine: i + 1,
    endLine: i + 1,
    level: "warning",
    message: `egress to host${i}.example denied`,
  }));

describe("truncateSummary", () => {
  it.each([
    { name: "empty", length: 0, cut: false },
    { name: "one under the limit", length: MAX_SUMMARY_CHARS - 1, cut: false },
    { name: "at the limit", length: MAX_SUMMARY_CHARS, cut: false },
    { name: "one over the limit", length: MAX_SUMMARY_CHARS + 1, cut: true },
    { name: "a megabyte", length: 1_000_000, cut: true },
  ])("$name", ({ length, cut }) => {
    const summary = "x".repeat(length);
    const out = truncateSummary(summary);
    expect(out.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    if (cut) expect(out).toMatch(/cut to GitHub's 65535-character limit; `sandboxed logs <job>`/);
    else expect(out).toBe(summary);
  });

  it("never cuts a surrogate pair in half", () => {
    // "😀" is two UTF-16 units; place one across the cut point.
    const note = "!";
    const text = "ab😀cd";
    expect(truncate(text, 4, note)).toBe("ab!");
    expect(truncate(text, 5, note)).toBe("ab😀!");
  });
});

describe("checkRunBodies", () => {
  it("creates a completed check run with the title, summary and details URL", () => {
    const bodies = checkRunBodies(
      "abc123",
      report({ detailsUrl: "https://github.com/o/r/runs/1" }),
    );
    expect(bodies).toEqual({
      create: {
        name: "sandboxed: build",
        head_sha: "abc123",
        status: "completed",
        conclusion: "success",
        details_url: "https://github.com/o/r/runs/1",
        output: { title: "Job succeeded in 42 s", summary: "## Policy\n\nall fine" },
      },
      updates: [],
    });
  });

  it("maps an annotation to GitHub's fields", () => {
    const one: Annotation = {
      path: "a.yml",
      startLine: 3,
      endLine: 4,
      level: "failure",
      message: "m",
      title: "t",
    };
    expect(checkRunBodies("s", report({ annotations: [one] })).create.output.annotations).toEqual([
      {
        path: "a.yml",
        start_line: 3,
        end_line: 4,
        annotation_level: "failure",
        message: "m",
        title: "t",
      },
    ]);
  });

  // At most 50 annotations per request; the rest go in PATCH requests of 50.
  it.each([
    { name: "none", n: 0, first: 0, updates: [] },
    { name: "one", n: 1, first: 1, updates: [] },
    { name: "exactly 50", n: 50, first: 50, updates: [] },
    { name: "51", n: 51, first: 50, updates: [1] },
    { name: "120", n: 120, first: 50, updates: [50, 20] },
  ])("$name annotations", ({ n, first, updates }) => {
    const bodies = checkRunBodies("s", report({ annotations: annotations(n) }));
    expect(bodies.create.output.annotations?.length ?? 0).toBe(first);
    expect(bodies.updates.map((u) => u.annotations?.length)).toEqual(updates);
    for (const update of bodies.updates) {
      expect(update.annotations!.length).toBeLessThanOrEqual(MAX_ANNOTATIONS_PER_REQUEST);
      expect(update.title).toBe("Job succeeded in 42 s");
    }
    const all = [
      bodies.create.output.annotations ?? [],
      ...bodies.updates.map((u) => u.annotations!),
    ].flat();
    expect(all.map((a) => a.start_line)).toEqual(annotations(n).map((a) => a.startLine));
  });

  it("cuts the summary of the create and every update", () => {
    const bodies = checkRunBodies(
      "s",
      report({ summary: "y".repeat(70_000), annotations: annotations(60) }),
    );
    expect(bodies.create.output.summary.length).toBeLessThanOrEqual(MAX_SUMMARY_CHARS);
    expect(bodies.updates[0]!.summary).toBe(bodies.create.output.summary);
  });
});

describe("statusBody", () => {
  it.each([
    { name: "success", conclusion: "success", state: "success" },
    { name: "failure", conclusion: "failure", state: "failure" },
    {
      name: "cancelled → error (statuses have no cancelled)",
      conclusion: "cancelled",
      state: "error",
    },
  ] as const)("$name", ({ conclusion, state }) => {
    expect(statusBody(report({ conclusion }))).toEqual({
      state,
      context: "sandboxed: build",
      description: "Job succeeded in 42 s",
    });
  });

  it.each([
    { name: "140 characters kept", length: 140, expected: 140, cut: false },
    { name: "141 characters cut to 140", length: 141, expected: 140, cut: true },
  ])("description: $name", ({ length, expected, cut }) => {
    const description = statusBody(report({ title: "t".repeat(length) })).description;
    expect(description.length).toBe(expected);
    expect(description.endsWith("…")).toBe(cut);
  });

  it("links the details URL", () => {
    expect(statusBody(report({ detailsUrl: "https://x" })).target_url).toBe("https://x");
  });
});
