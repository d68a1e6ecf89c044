// The service's JSON-lines logger: field names, canonical job decision lines, and secrets that
// never reach a line (issue 6, "Logs"; STYLE H16).
import { describe, expect, it } from "vitest";
import {
  createLogger,
  FIELD,
  JOB_DECISION_MSG,
  jobLogger,
  logJobDecision,
  REDACTED,
  scrubSecrets,
} from "../../runner/logs/index.js";
import type { LogLevel } from "../../runner/logs/index.js";

function capture(level: LogLevel = "info", base?: Record<string, unknown>) {
  const lines: string[] = [];
  const log = createLogger({ level, destination: { write: (s: string) => lines.push(s) }, base });
  const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, parsed };
}

const SECRET = "s3cr3t-value-that-must-never-appear";

class FakeSecret {
  reveal(): string {
    return SECRET;
  }
  toJSON(): string {
    return REDACTED;
  }
}

describe("createLogger", () => {
  it("writes one JSON object per line: level as a word, ISO time, pid, hostname, base fields", () => {
    const { log, lines, parsed } = capture("info", { service: "sandboxed" });
    log.info({ [FIELD.jobId]: 7 }, "hello");
    log.debug("not at info");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith("\n")).toBe(true);
    const [line] = parsed();
    expect(line).toMatchObject({ level: "info", msg: "hello", jobId: 7, service: "sandboxed" });
    expect(line!.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line!.pid).toBe(process.pid);
    expect(typeof line!.hostname).toBe("string");
  });

  it("serialises errors under err with type, message and stack", () => {
    const { log, parsed } = capture();
    log.error({ [FIELD.err]: new Error("boom") }, "failed");
    expect(parsed()[0]!.err).toMatchObject({ type: "Error", message: "boom" });
  });
});

describe("secrets never reach a log line", () => {
  const withRequest = Object.assign(new Error("401"), {
    request: { headers: { authorization: `token ${SECRET}` } },
  });
  it.each([
    { name: "jitConfig at the top", fields: { jitConfig: SECRET } },
    { name: "jitConfig one level down", fields: { runner: { jitConfig: SECRET } } },
    { name: "jitConfig three levels down", fields: { a: { b: { c: { jitConfig: SECRET } } } } },
    { name: "GitHub's encoded_jit_config", fields: { reply: { encoded_jit_config: SECRET } } },
    { name: "token", fields: { token: SECRET } },
    { name: "privateKey", fields: { app: { privateKey: SECRET } } },
    { name: "webhook secret", fields: { secret: SECRET } },
    { name: "authorization header", fields: { req: { headers: { authorization: SECRET } } } },
    {
      name: "Authorization header in any case, deep",
      fields: { x: { y: { headers: { Authorization: SECRET } } } },
    },
    { name: "authorization header of an Octokit error", fields: { err: withRequest } },
    { name: "inside an array", fields: { runners: [{ jitConfig: SECRET }] } },
    { name: "a Secret object", fields: { jit: new FakeSecret() } },
  ])("$name", ({ fields }) => {
    const { log, lines } = capture();
    log.info(fields, "line");
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).toContain(REDACTED);
  });

  it("in child bindings made by jobLogger", () => {
    const { log, lines } = capture();
    jobLogger(log, { deliveryId: "d-1", jobId: 1 }, { token: SECRET }).info("x");
    expect(lines[0]).not.toContain(SECRET);
  });

  it("keeps keys that only look like secrets: a token file path is not a token", () => {
    expect(scrubSecrets({ tokenFile: "/etc/sandboxed/token", secretFile: "/x" })).toEqual({
      tokenFile: "/etc/sandboxed/token",
      secretFile: "/x",
    });
  });
});

describe("job lines (H16)", () => {
  it("jobLogger puts the delivery id and job id on every line, null when no webhook", () => {
    const { log, parsed } = capture();
    const job = jobLogger(log, { deliveryId: null, jobId: 42 }, { [FIELD.repo]: "o/r" });
    job.info("one");
    job.warn({ [FIELD.sandboxId]: "sbx-1" }, "two");
    for (const line of parsed()) {
      expect(line).toHaveProperty(FIELD.deliveryId, null);
      expect(line).toHaveProperty(FIELD.jobId, 42);
      expect(line).toHaveProperty(FIELD.repo, "o/r");
    }
  });

  it.each([
    { name: "accepted is info", decision: "accepted" as const, level: "info" },
    { name: "finished is info", decision: "finished" as const, level: "info" },
    { name: "refused is a warning", decision: "refused" as const, level: "warn" },
    { name: "recovered is a warning", decision: "recovered" as const, level: "warn" },
  ])("logJobDecision: $name, one canonical line", ({ decision, level }) => {
    const { log, parsed } = capture();
    logJobDecision(log, { deliveryId: "guid-1", jobId: 9 }, decision, {
      [FIELD.reason]: "label-subset",
    });
    expect(parsed()).toEqual([
      expect.objectContaining({
        level,
        msg: JOB_DECISION_MSG,
        deliveryId: "guid-1",
        jobId: 9,
        decision,
        reason: "label-subset",
      }),
    ]);
  });

  it("the keys given win over stray fields of the same name", () => {
    const { log, parsed } = capture();
    logJobDecision(log, { deliveryId: "real", jobId: 1 }, "ignored", { deliveryId: "stray" });
    expect(parsed()[0]!.deliveryId).toBe("real");
  });
});
