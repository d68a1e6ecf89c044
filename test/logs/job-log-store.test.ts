// Per-job logs on disk (issue 6, "Logs"): what is written where, with which modes, read back,
// listed, pruned by retention, and never a path outside the log folder.
import {
  mkdtempSync,
  readFileSync,
  statSync,
  writeFileSync,
  existsSync,
  appendFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SandboxedError } from "../../runner/errors/index.js";
import { checkJobId, createJobLogStore } from "../../runner/logs/index.js";

const DAY = 24 * 3600 * 1000;
/** A fake clock far past any real file time, so real mtimes always count as old. */
const T0 = Date.parse("2031-03-01T12:00:00.000Z");

function store(retentionMs = 14 * DAY) {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), "sbx-logs-")), "logs");
  let now = T0;
  const s = createJobLogStore({ dir, retentionMs, now: () => now });
  return { s, dir, advance: (ms: number) => (now += ms) };
}

const META = {
  repo: "octo-org/app",
  runId: 55,
  runAttempt: 1,
  jobName: "build",
  workflowName: "CI",
  labels: ["sandboxed"],
  deliveryId: "guid-1",
};

const mode = (p: string): number => statSync(p).mode & 0o777;

describe("open and write", () => {
  it("creates <dir>/<jobId>/ 0700 with meta.json 0600 and its times from the clock", () => {
    const { s, dir } = store();
    const log = s.open(123, { ...META, queuedAt: T0 - 5000 });
    expect(log.dir).toBe(path.join(dir, "123"));
    expect(mode(log.dir)).toBe(0o700);
    expect(mode(path.join(log.dir, "meta.json"))).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(log.dir, "meta.json"), "utf8"))).toEqual({
      ...META,
      jobId: "123",
      queuedAt: "2031-03-01T11:59:55.000Z",
      openedAt: "2031-03-01T12:00:00.000Z",
      updatedAt: "2031-03-01T12:00:00.000Z",
    });
  });

  it("appends console, runner and egress, writes report and outcome, all 0600, and reads them back", () => {
    const { s } = store();
    const log = s.open("77", META);
    log.appendConsole("boot\n");
    log.append("console.log", "step 1\n");
    log.appendRunner("Listening for Jobs\n");
    log.appendEgress({ kind: "connect", host: "evil.example", port: 443, verdict: "deny" });
    log.append("egress.jsonl", `${JSON.stringify({ host: "github.com", verdict: "allow" })}\n`);
    log.writeReport({ outcome: "success", peaks: {} });
    log.writeOutcome({ outcome: "success", title: "ok" });
    for (const f of ["console.log", "runner.log", "egress.jsonl", "report.json", "outcome.json"]) {
      expect(mode(path.join(log.dir, f)), f).toBe(0o600);
    }
    const read = s.read(77);
    expect(read.files).toEqual({
      console: "boot\nstep 1\n",
      runner: "Listening for Jobs\n",
      egress: [
        { kind: "connect", host: "evil.example", port: 443, verdict: "deny" },
        { host: "github.com", verdict: "allow" },
      ],
      report: { outcome: "success", peaks: {} },
      outcome: { outcome: "success", title: "ok", finishedAt: "2031-03-01T12:00:00.000Z" },
    });
    expect(read.meta?.repo).toBe("octo-org/app");
  });

  it("leaves a torn last egress line out (a crash mid-write)", () => {
    const { s } = store();
    const log = s.open(5, META);
    log.appendEgress({ host: "a.example", verdict: "allow" });
    appendFileSync(path.join(log.dir, "egress.jsonl"), '{"host":"b.exa');
    expect(s.read(5).files.egress).toEqual([{ host: "a.example", verdict: "allow" }]);
  });

  it("reopening after a restart keeps the console so far and openedAt; meta is merged", () => {
    const { s, advance } = store();
    s.open(9, META).appendConsole("before the crash\n");
    advance(60_000);
    const again = s.open(9, { repo: "octo-org/app", sandboxId: "sbx-2" });
    again.appendConsole("after\n");
    again.writeJson("meta.json", { runnerName: "sandboxed-9-abc", jobId: "forged" });
    const read = s.read(9);
    expect(read.files.console).toBe("before the crash\nafter\n");
    expect(read.meta).toMatchObject({
      jobId: "9",
      jobName: "build",
      sandboxId: "sbx-2",
      runnerName: "sandboxed-9-abc",
      openedAt: "2031-03-01T12:00:00.000Z",
      updatedAt: "2031-03-01T12:01:00.000Z",
    });
  });

  it("censors secret-named keys in the JSON files it writes", () => {
    const { s } = store();
    const log = s.open(3, META);
    log.writeJson("report.json", { runner: { jitConfig: "blob" }, token: "t" });
    const text = readFileSync(path.join(log.dir, "report.json"), "utf8");
    expect(text).not.toContain("blob");
    expect(JSON.parse(text)).toEqual({ runner: { jitConfig: "[redacted]" }, token: "[redacted]" });
  });

  it("replaces JSON files whole: no temporary file is left", () => {
    const { s } = store();
    const log = s.open(4, META);
    log.writeOutcome({ outcome: "failure" });
    log.writeOutcome({ outcome: "success" });
    expect(s.read(4).files.outcome?.outcome).toBe("success");
    expect(existsSync(path.join(log.dir, ".outcome.json.tmp"))).toBe(false);
  });
});

describe("job ids name folders: nothing leaves the log folder (SBX_LOGS_JOB_ID)", () => {
  it.each([
    { name: "parent", id: ".." },
    { name: "current", id: "." },
    { name: "traversal", id: "../../etc" },
    { name: "slash", id: "a/b" },
    { name: "absolute", id: "/etc/passwd" },
    { name: "backslash", id: "a\\b" },
    { name: "empty", id: "" },
    { name: "NUL", id: "1\u00002" },
    { name: "hidden", id: ".hidden" },
    { name: "space", id: " 1" },
    { name: "newline", id: "1\n" },
    { name: "too long", id: "1".repeat(129) },
  ])("refuses $name", ({ id }) => {
    const { s } = store();
    expect(() => s.open(id, META)).toThrow(SandboxedError);
    expect(() => s.read(id)).toThrow(SandboxedError);
  });

  it.each([
    { name: "a GitHub job id", id: 28157437123 },
    { name: "digits as text", id: "123" },
    { name: "a sandbox-style id", id: "sbx-1a2b3c" },
    { name: "dots inside", id: "1.2" },
    { name: "128 characters", id: "1".repeat(128) },
  ])("accepts $name", ({ id }) => {
    expect(checkJobId(id)).toBe(String(id));
  });

  it("says what is wrong and how to fix it", () => {
    try {
      checkJobId("../x");
      expect.unreachable();
    } catch (error) {
      const e = error as SandboxedError;
      expect(e.code).toBe("SBX_LOGS_JOB_ID");
      expect(e.message).toBe(
        `"../x" is not a job id: letters, digits, '.', '_' and '-' only, not starting with '.' (it names a folder)`,
      );
      expect(e.hint).toBe("pass the job's numeric id; `sandboxed logs` lists them");
    }
  });
});

describe("read of an unknown job (SBX_LOGS_NOT_FOUND)", () => {
  it("names the folder and lists recent jobs in the hint", () => {
    const { s, dir, advance } = store();
    s.open(1, META);
    advance(1000);
    s.open(2, META);
    try {
      s.read(3);
      expect.unreachable();
    } catch (error) {
      const e = error as SandboxedError;
      expect(e.code).toBe("SBX_LOGS_NOT_FOUND");
      expect(e.message).toBe(`no logs for job 3 in ${dir}`);
      expect(e.hint).toBe("recent jobs: 2, 1 (sandboxed logs lists all)");
    }
  });

  it("with no job at all, points at logs.dir", () => {
    const { s } = store();
    expect(() => s.read(1)).toThrow(
      expect.objectContaining({
        code: "SBX_LOGS_NOT_FOUND",
        hint: "no job has run with this log folder yet; check logs.dir in sandboxed.yml",
      }),
    );
  });
});

describe("list", () => {
  it("is empty before the folder exists", () => {
    expect(store().s.list()).toEqual([]);
  });

  it("lists jobs newest first with their outcome and size, skipping stray entries", () => {
    const { s, dir, advance } = store();
    s.open(10, META).writeOutcome({ outcome: "failure", title: "exit 1" });
    advance(1000);
    s.open(11, { repo: "octo-org/lib", jobName: "test" }).appendConsole("x");
    writeFileSync(path.join(dir, "README"), "not a job");
    const rows = s.list();
    expect(rows.map((r) => r.jobId)).toEqual(["11", "10"]);
    expect(rows[0]).toMatchObject({ repo: "octo-org/lib", jobName: "test" });
    expect(rows[0]!.outcome).toBeUndefined();
    expect(rows[1]).toMatchObject({
      jobId: "10",
      repo: "octo-org/app",
      jobName: "build",
      runId: 55,
      outcome: "failure",
      title: "exit 1",
      openedAt: "2031-03-01T12:00:00.000Z",
    });
    expect(rows[1]!.bytes).toBeGreaterThan(0);
  });
});

describe("prune (retention)", () => {
  it.each([
    { name: "finished past the retention: removed", finishedAgo: 15 * DAY, removed: true },
    { name: "finished just inside the retention: kept", finishedAgo: 14 * DAY - 1, removed: false },
    { name: "finished exactly at the retention: kept", finishedAgo: 14 * DAY, removed: false },
  ])("$name", ({ finishedAgo, removed }) => {
    const { s, advance } = store();
    s.open(1, META).writeOutcome({ outcome: "success" });
    advance(finishedAgo);
    expect(s.prune()).toEqual(removed ? ["1"] : []);
    expect(s.list().length).toBe(removed ? 0 : 1);
  });

  it("never removes a job this process has open and not finished, however old", () => {
    const { s, advance } = store();
    s.open(1, META);
    advance(100 * DAY);
    expect(s.prune()).toEqual([]);
  });

  it("removes an unfinished job of an earlier process once its last write is past the retention", () => {
    const { s, dir, advance } = store();
    s.open(1, META);
    advance(DAY);
    const later = createJobLogStore({ dir, retentionMs: 14 * DAY, now: () => T0 + 20 * DAY });
    expect(later.prune()).toEqual(["1"]);
    const fresh = createJobLogStore({ dir, retentionMs: 14 * DAY, now: () => T0 + DAY });
    s.open(2, META);
    expect(fresh.prune()).toEqual([]);
  });

  it("removes only old ones, sorted", () => {
    const { s, advance } = store();
    s.open(3, META).writeOutcome({ outcome: "success" });
    s.open(1, META).writeOutcome({ outcome: "failure" });
    advance(10 * DAY);
    s.open(2, META).writeOutcome({ outcome: "success" });
    advance(5 * DAY);
    expect(s.prune()).toEqual(["1", "3"]);
    expect(s.list().map((r) => r.jobId)).toEqual(["2"]);
  });
});
