import { describe, expect, it } from "vitest";
import {
  addressPlan,
  isValidSlot,
  MAX_IFNAME,
  NET_SLOTS,
} from "../../runner/network/address-plan.js";

describe("addressPlan", () => {
  it.each([
    // --- first and last slots of the /16s
    {
      name: "slot 0",
      slot: 0,
      gw: "10.203.0.1",
      guest: "10.203.0.2",
      host: "10.204.0.1",
      ns: "10.204.0.2",
      subnet: "10.203.0.0/30",
      hostIf: "sbxh-0",
    },
    {
      name: "slot 1",
      slot: 1,
      gw: "10.203.0.5",
      guest: "10.203.0.6",
      host: "10.204.0.5",
      ns: "10.204.0.6",
      subnet: "10.203.0.4/30",
      hostIf: "sbxh-1",
    },
    // --- third octet boundary: 63 is the last /30 of 10.x.0.0/24, 64 the first of 10.x.1.0/24
    {
      name: "slot 63",
      slot: 63,
      gw: "10.203.0.253",
      guest: "10.203.0.254",
      host: "10.204.0.253",
      ns: "10.204.0.254",
      subnet: "10.203.0.252/30",
      hostIf: "sbxh-63",
    },
    {
      name: "slot 64",
      slot: 64,
      gw: "10.203.1.1",
      guest: "10.203.1.2",
      host: "10.204.1.1",
      ns: "10.204.1.2",
      subnet: "10.203.1.0/30",
      hostIf: "sbxh-64",
    },
    {
      name: "last slot",
      slot: 16383,
      gw: "10.203.255.253",
      guest: "10.203.255.254",
      host: "10.204.255.253",
      ns: "10.204.255.254",
      subnet: "10.203.255.252/30",
      hostIf: "sbxh-16383",
    },
  ])("$name", ({ slot, gw, guest, host, ns, subnet, hostIf }) => {
    const plan = addressPlan(slot);
    expect(plan.guestLink).toMatchObject({ near: gw, far: guest, subnet, prefixLength: 30 });
    expect(plan.uplink).toMatchObject({ near: host, far: ns });
    expect(plan.hostIf).toBe(hostIf);
    expect(plan.netnsIf).toBe(hostIf.replace("sbxh-", "sbxn-"));
    expect(plan.guestIf).toBe("tap0");
  });

  it.each([
    { name: "negative", slot: -1 },
    { name: "one past the last", slot: NET_SLOTS },
    { name: "fraction", slot: 1.5 },
    { name: "NaN", slot: Number.NaN },
  ])("rejects $name", ({ slot }) => {
    expect(isValidSlot(slot)).toBe(false);
    expect(() => addressPlan(slot)).toThrow(/outside 0\.\.16383/);
  });

  it("gives every slot distinct addresses and names that fit IFNAMSIZ", () => {
    const seen = new Set<string>();
    for (let slot = 0; slot < NET_SLOTS; slot++) {
      const p = addressPlan(slot);
      for (const key of [
        p.guestLink.near,
        p.guestLink.far,
        p.uplink.near,
        p.uplink.far,
        p.hostIf,
        p.netnsIf,
      ]) {
        expect(seen.has(key)).toBe(false);
        seen.add(key);
      }
      expect(p.hostIf.length).toBeLessThanOrEqual(MAX_IFNAME);
      expect(p.netnsIf.length).toBeLessThanOrEqual(MAX_IFNAME);
    }
  });
});
