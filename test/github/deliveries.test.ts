// Which failed webhook deliveries to ask GitHub for again (runner/github/deliveries.ts).
import { describe, expect, it } from "vitest";
import type { Delivery } from "../../runner/github/deliveries.js";
import { deliveryFromRest, pickRedeliveries } from "../../runner/github/deliveries.js";
import { isSandboxedError } from "../../runner/errors/index.js";

const SINCE = Date.parse("2026-01-01T10:00:00Z");
let nextId = 1;
const delivery = (fields: Partial<Delivery>): Delivery => ({
  id: nextId++,
  guid: "g-1",
  deliveredAtMs: SINCE + 1000,
  statusCode: 502,
  event: "workflow_job",
  ...fields,
});

describe("pickRedeliveries", () => {
  it.each([
    { name: "nothing delivered", deliveries: [], expected: [] },
    { name: "one failed", deliveries: [delivery({ id: 10 })], expected: [10] },
    { name: "one answered 202", deliveries: [delivery({ statusCode: 202 })], expected: [] },
    {
      name: "one answered 200 (duplicate)",
      deliveries: [delivery({ statusCode: 200 })],
      expected: [],
    },
    {
      name: "nothing answered (0)",
      deliveries: [delivery({ id: 11, statusCode: 0 })],
      expected: [11],
    },
    { name: "refused 401", deliveries: [delivery({ id: 12, statusCode: 401 })], expected: [12] },
    { name: "a ping that failed", deliveries: [delivery({ event: "ping" })], expected: [] },
    {
      name: "failed just before since",
      deliveries: [delivery({ deliveredAtMs: SINCE - 1 })],
      expected: [],
    },
    {
      name: "failed exactly at since",
      deliveries: [delivery({ id: 13, deliveredAtMs: SINCE })],
      expected: [13],
    },
    {
      name: "failed, then a redelivery succeeded",
      deliveries: [
        delivery({ id: 21, deliveredAtMs: SINCE + 5000, statusCode: 202 }),
        delivery({ id: 20, deliveredAtMs: SINCE + 1000 }),
      ],
      expected: [],
    },
    {
      name: "failed twice: only the newest attempt",
      deliveries: [delivery({ id: 31, deliveredAtMs: SINCE + 5000 }), delivery({ id: 30 })],
      expected: [31],
    },
    {
      name: "two GUIDs failed",
      deliveries: [delivery({ id: 40, guid: "a" }), delivery({ id: 41, guid: "b" })],
      expected: [40, 41],
    },
  ])("$name", ({ deliveries, expected }) => {
    expect(pickRedeliveries(deliveries, SINCE)).toEqual(expected);
  });
});

describe("deliveryFromRest", () => {
  const raw = {
    id: 7,
    guid: "0b989ba4-242f-11e5-81e1-c7b6966d2516",
    delivered_at: "2026-01-01T10:00:05Z",
    redelivery: false,
    duration: 0.27,
    status: "Invalid HTTP Response: 502",
    status_code: 502,
    event: "workflow_job",
    action: "queued",
    installation_id: 1,
    repository_id: 2,
  };

  it("reads GitHub's delivery object", () => {
    expect(deliveryFromRest(raw, 0)).toEqual({
      id: 7,
      guid: raw.guid,
      deliveredAtMs: SINCE + 5000,
      statusCode: 502,
      event: "workflow_job",
    });
  });

  it.each([
    {
      name: "a date that is none",
      fields: { delivered_at: "yesterday" },
      field: "deliveries[3].delivered_at must be a date",
    },
    {
      name: "no status code",
      fields: { status_code: undefined },
      field: "deliveries[3].status_code must be a whole number",
    },
  ])("refuses $name", ({ fields, field }) => {
    let error: unknown;
    try {
      deliveryFromRest({ ...raw, ...fields }, 3);
    } catch (caught) {
      error = caught;
    }
    expect(isSandboxedError(error) && error.code).toBe("SBX_GITHUB_BAD_REPLY");
    expect((error as Error).message).toContain(
      `GitHub's reply to GET /app/hook/deliveries is malformed: ${field}`,
    );
  });
});
