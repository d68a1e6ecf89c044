// `sandboxed logs <job>` output: the outcome first, then the sections (issue 6, "Logs").
import { describe, expect, it } from "vitest";
import { renderJobLog, renderJobLogList } from "../../runner/logs/index.js";
import type { JobLogRead } from "../../runner/logs/index.js";

const META = {
  jobId: "123",
  repo: "octo-org/app",
  runId: 55,
  runAttempt: 2,
  jobName: "build",
  workflowName: "CI",
  labels: ["sandboxed", "linux"],
  labelSet: "default",
  sandboxId: "sbx-1a2b",
  runnerName: "sandboxed-123-abcdef",
  queuedAt: "2031-03-01T12:00:00.000Z",
  startedAt: "2031-03-01T12:00:07.000Z",
  openedAt: "2031-03-01T12:00:07.000Z",
  updatedAt: "2031-03-01T12:00:07.000Z",
};

const FULL: JobLogRead = {
  jobId: "123",
  meta: META,
  files: {
    console: "[    0.000] Linux version 6.1\n",
    runner: "√ Connected to GitHub\nRunning job: build",
    egress: [
      { kind: "connect", host: "github.com", port: 443, verdict: "allow", reason: "allowed" },
      {
        kind: "connect",
        host: "evil.example",
        port: 443,
        verdict: "deny",
        reason: "not-allowed",
      },
      { kind: "dns", host: "x.example", verdict: "allow", wouldDeny: true, reason: "audit" },
      { something: "else" },
    ],
    report: { outcome: "limit" },
    outcome: {
      outcome: "limit",
      title: "memory limit 4GiB exceeded",
      summary: "### Sandbox\n- memory peak 4GiB",
      finishedAt: "2031-03-01T12:03:00.000Z",
    },
  },
};

describe("renderJobLog", () => {
  it("prints the outcome line first, the job on three lines, then every section in order", () => {
    expect(renderJobLog(FULL)).toBe(
      [
        "job 123 limit: memory limit 4GiB exceeded",
        "  octo-org/app · CI / build · run 55 attempt 2",
        "  labels sandboxed,linux · label set default · sandbox sbx-1a2b · runner sandboxed-123-abcdef",
        "  queued 2031-03-01T12:00:00.000Z · started 2031-03-01T12:00:07.000Z · finished 2031-03-01T12:03:00.000Z",
        "",
        "── summary ──",
        "### Sandbox",
        "- memory peak 4GiB",
        "",
        "── console.log ──",
        "[    0.000] Linux version 6.1",
        "",
        "── runner.log ──",
        "√ Connected to GitHub",
        "Running job: build",
        "",
        "── egress.jsonl (4 decisions, 2 denied) ──",
        "allow      connect github.com:443 allowed",
        "deny       connect evil.example:443 not-allowed",
        "would deny dns x.example audit",
        '{"something":"else"}',
        "",
        "── report.json ──",
        "{",
        '  "outcome": "limit"',
        "}",
        "",
      ].join("\n"),
    );
  });

  it.each([
    {
      name: "only the console",
      files: ["console" as const],
      has: ["── console.log ──"],
      hasNot: ["── runner.log ──", "── egress", "── summary ──"],
    },
    {
      name: "egress then runner, in the order asked",
      files: ["egress" as const, "runner" as const],
      has: ["── egress.jsonl", "── runner.log ──"],
      hasNot: ["── console.log ──"],
    },
  ])("sections: $name", ({ files, has, hasNot }) => {
    const out = renderJobLog(FULL, { files });
    expect(out.split("\n")[0]).toBe("job 123 limit: memory limit 4GiB exceeded");
    for (const h of hasNot) expect(out).not.toContain(h);
    // Each header is there, after the one before it.
    const at = has.map((h) => out.indexOf(h));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it("a job still running (no outcome.json) says so, and skips missing files", () => {
    const out = renderJobLog({ jobId: "7", meta: META, files: { console: "" } });
    expect(out.split("\n")[0]).toBe(
      "job 7: no outcome recorded (still running, or the service stopped)",
    );
    expect(out).toContain("── console.log ──\n");
    expect(out).not.toContain("runner.log");
  });

  it("the scheduler's outcome.json (record with epoch times) and no meta.json", () => {
    const out = renderJobLog({
      jobId: "8",
      meta: undefined,
      files: { outcome: { outcome: "infrastructure", record: { finishedAt: 1 } } },
    });
    expect(out).toBe("job 8 infrastructure\n  (meta.json is missing)\n");
  });
});

describe("renderJobLogList", () => {
  it("one aligned line per job; running ones marked", () => {
    expect(
      renderJobLogList([
        { jobId: "11", repo: "o/lib", jobName: "test", openedAt: "2031-03-01T12:00:01Z", bytes: 1 },
        {
          jobId: "9",
          repo: "o/app",
          jobName: "build",
          outcome: "success",
          openedAt: "2031-03-01T12:00:00Z",
          bytes: 1,
        },
      ]),
    ).toBe(
      "11  (running)  2031-03-01T12:00:01Z  o/lib test\n" +
        "9   success    2031-03-01T12:00:00Z  o/app build\n",
    );
  });

  it("says when there is nothing", () => {
    expect(renderJobLogList([])).toBe("no job logs yet\n");
  });
});
