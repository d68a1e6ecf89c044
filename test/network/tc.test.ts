import { describe, expect, it } from "vitest";
import { addressPlan } from "../../runner/network/address-plan.js";
import { bandwidthCommands, tbfArgs, tbfBurstBytes } from "../../runner/network/tc.js";

describe("tbf burst", () => {
  it.each([
    // --- below the floor: one 10 ms slice is smaller than 16 KiB
    { name: "1 Mbit/s uses the floor", bps: 1e6, burst: 16384 },
    { name: "8 Mbit/s uses the floor", bps: 8e6, burst: 16384 },
    // --- boundary: 10 ms of 13,107,200 bit/s is exactly 16 KiB
    { name: "exactly the floor", bps: 13_107_200, burst: 16384 },
    { name: "just above the floor", bps: 13_107_208, burst: 16385 },
    // --- above: 10 ms worth
    { name: "100 Mbit/s", bps: 1e8, burst: 125_000 },
    { name: "1 Gbit/s", bps: 1e9, burst: 1_250_000 },
  ])("$name", ({ bps, burst }) => {
    expect(tbfBurstBytes(bps)).toBe(burst);
  });
});

describe("bandwidthCommands", () => {
  it("caps guest egress on the uplink's netns end and guest ingress on the guest link", () => {
    expect(bandwidthCommands(addressPlan(7), { egressBps: 8e6, ingressBps: 1e9 })).toEqual([
      tbfArgs("sbxn-7", 8e6),
      tbfArgs("tap0", 1e9),
    ]);
    expect(tbfArgs("sbxn-7", 8e6).join(" ")).toBe(
      "qdisc replace dev sbxn-7 root tbf rate 8000000bit burst 16384 latency 50ms",
    );
  });

  it.each([
    { name: "zero egress", egressBps: 0, ingressBps: 1e6, error: /egressBps 0/ },
    { name: "below 1 Kbit ingress", egressBps: 1e6, ingressBps: 999, error: /ingressBps 999/ },
    { name: "fractional", egressBps: 1e6 + 0.5, ingressBps: 1e6, error: /egressBps/ },
    { name: "NaN", egressBps: Number.NaN, ingressBps: 1e6, error: /egressBps/ },
  ])("rejects $name", ({ egressBps, ingressBps, error }) => {
    expect(() => bandwidthCommands(addressPlan(0), { egressBps, ingressBps })).toThrow(error);
  });
});
