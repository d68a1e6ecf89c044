// The webhook listener's decisions (runner/github/webhook-decide.ts), before and after the body.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { JOB_ORIGIN_HEADER, MAX_WEBHOOK_BYTES } from "../../runner/github/index.js";
import { JOB_HEADER } from "../../runner/network/index.js";
import {
  decideBeforeBody,
  parseDelivery,
  signatureOf,
  WEBHOOK_STATUS,
} from "../../runner/github/webhook-decide.js";

const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const queued = definitions
  .find((d) => d.name === "workflow_job")!
  .examples.find((e) => e.action === "queued")!;

const SIG = `sha256=${"ab".repeat(32)}`;

describe("the job-origin header", () => {
  it("is the header the egress proxy stamps on sandbox requests", () => {
    expect(JOB_ORIGIN_HEADER).toBe(JOB_HEADER);
  });
});

describe("decideBeforeBody", () => {
  // Steps 1-3: the request line and headers alone.
  it.each([
    { name: "POST with nothing odd", method: "POST", headers: {}, expected: undefined },
    { name: "GET", method: "GET", headers: {}, expected: "method-not-allowed" },
    { name: "no method", method: undefined, headers: {}, expected: "method-not-allowed" },
    {
      name: "the job-origin header",
      method: "POST",
      headers: { "x-sandboxed-job": "job-1" },
      expected: "job-origin",
    },
    {
      name: "the job-origin header, empty",
      method: "POST",
      headers: { "x-sandboxed-job": "" },
      expected: "job-origin",
    },
    {
      name: "the job-origin header beats a too-large length",
      method: "POST",
      headers: { "x-sandboxed-job": "1", "content-length": String(MAX_WEBHOOK_BYTES + 1) },
      expected: "job-origin",
    },
    {
      name: "length at the limit",
      method: "POST",
      headers: { "content-length": String(MAX_WEBHOOK_BYTES) },
      expected: undefined,
    },
    {
      name: "length one over the limit",
      method: "POST",
      headers: { "content-length": String(MAX_WEBHOOK_BYTES + 1) },
      expected: "too-large",
    },
    {
      name: "a length that is no number",
      method: "POST",
      headers: { "content-length": "lots" },
      expected: undefined,
    },
  ])("$name → $expected", ({ method, headers, expected }) => {
    expect(decideBeforeBody(method, headers, MAX_WEBHOOK_BYTES)).toBe(expected);
  });
});

describe("signatureOf", () => {
  const upper = `sha256=${"AB".repeat(32)}`;
  it.each([
    { name: "sha256 and 64 hex digits", value: SIG, expected: SIG },
    { name: "upper-case hex", value: upper, expected: upper },
    { name: "missing", value: undefined, expected: undefined },
    { name: "the old sha1 form", value: `sha1=${"ab".repeat(20)}`, expected: undefined },
    { name: "too short", value: "sha256=abcd", expected: undefined },
    { name: "not hex", value: `sha256=${"zz".repeat(32)}`, expected: undefined },
  ])("$name", ({ value, expected }) => {
    const headers = value === undefined ? {} : { "x-hub-signature-256": value };
    expect(signatureOf(headers)).toBe(expected);
  });
});

describe("parseDelivery", () => {
  const headers = (extra: Record<string, string | undefined> = {}) => ({
    "x-github-delivery": "d-1",
    "x-github-event": "workflow_job",
    "content-type": "application/json",
    ...extra,
  });
  const body = JSON.stringify(queued);

  it.each([
    {
      name: "no delivery id",
      headers: headers({ "x-github-delivery": undefined }),
      body,
      message: "the X-GitHub-Delivery header is missing",
    },
    {
      name: "no event",
      headers: headers({ "x-github-event": undefined }),
      body,
      message: "the X-GitHub-Event header is missing",
    },
    {
      name: "a form-encoded body",
      headers: headers({ "content-type": "application/x-www-form-urlencoded" }),
      body: `payload=${encodeURIComponent(body)}`,
      message: 'content type "application/x-www-form-urlencoded" is not application/json',
    },
    {
      name: "JSON cut short",
      headers: headers(),
      body: body.slice(0, 40),
      message: "the body is not JSON: ",
    },
    {
      name: "a job without labels",
      headers: headers(),
      body: JSON.stringify({
        ...queued,
        workflow_job: { ...(queued.workflow_job as object), labels: undefined },
      }),
      message: "workflow_job.labels must be a list of strings, got nothing",
    },
  ])("400: $name", ({ headers: h, body: b, message }) => {
    const parsed = parseDelivery(h, b);
    expect(parsed.reason).toBe("malformed");
    expect(parsed.reason === "malformed" && parsed.message).toContain(message);
  });

  it.each([
    {
      name: "ping",
      event: "ping",
      payload: { zen: "Keep it logically awesome." },
      reason: "ignored-event",
    },
    { name: "push", event: "push", payload: {}, reason: "ignored-event" },
    {
      name: "a workflow_job action GitHub adds later",
      event: "workflow_job",
      payload: { ...queued, action: "deferred" },
      reason: "ignored-action",
    },
  ])("202, ignored: $name", ({ event, payload, reason }) => {
    const parsed = parseDelivery(headers({ "x-github-event": event }), JSON.stringify(payload));
    expect(parsed.reason).toBe(reason);
  });

  it("hands over a well-formed job with its delivery id and action", () => {
    const parsed = parseDelivery(
      headers({ "content-type": "application/json; charset=utf-8" }),
      body,
    );
    expect(parsed).toMatchObject({ reason: "job", deliveryId: "d-1", action: "queued" });
    expect(parsed.reason === "job" && parsed.job.id).toBe(289782451);
  });
});

describe("WEBHOOK_STATUS", () => {
  it("answers GitHub with the plan's codes", () => {
    expect(WEBHOOK_STATUS).toEqual({
      "method-not-allowed": 405,
      "job-origin": 403,
      "too-large": 413,
      "bad-signature": 401,
      malformed: 400,
      "ignored-event": 202,
      "ignored-action": 202,
      duplicate: 200,
      accepted: 202,
    });
  });
});
