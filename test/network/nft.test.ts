import { describe, expect, it } from "vitest";
import { addressPlan } from "../../runner/network/address-plan.js";
import {
  sandboxNetnsRuleset,
  serviceNamespaceRuleset,
  serviceTableName,
} from "../../runner/network/nft.js";

const spec = { plan: addressPlan(5), proxyPort: 3128, dnsPort: 53 };

describe("nft rulesets (golden)", () => {
  it("sandbox netns table", async () => {
    await expect(sandboxNetnsRuleset(spec)).toMatchFileSnapshot(
      "../golden/network/sandbox-netns.nft",
    );
  });
  it("sandbox netns table with an unprivileged DNS port", async () => {
    await expect(sandboxNetnsRuleset({ ...spec, dnsPort: 5353 })).toMatchFileSnapshot(
      "../golden/network/sandbox-netns-dnat.nft",
    );
  });
  it("service namespace table", async () => {
    await expect(serviceNamespaceRuleset(spec)).toMatchFileSnapshot(
      "../golden/network/service-ns.nft",
    );
  });
});

describe("nft rulesets (properties)", () => {
  const netns = sandboxNetnsRuleset(spec);
  const service = serviceNamespaceRuleset(spec);

  it.each([
    { name: "forward", hook: "forward" },
    { name: "input", hook: "input" },
    { name: "output", hook: "output" },
  ])("sandbox netns $name hook drops by default", ({ hook }) => {
    expect(netns).toContain(`type filter hook ${hook} priority filter; policy drop;`);
  });

  it.each([
    // --- the only accepts in the netns: replies, loopback, and guest -> uplink service side
    { name: "replies", line: "ct state established,related accept" },
    {
      name: "proxy and DNS over TCP",
      line: 'iifname "tap0" oifname "sbxn-5" ip saddr 10.203.0.22 ip daddr 10.204.0.21 tcp dport { 53, 3128 } ct state new accept',
    },
    {
      name: "DNS over UDP",
      line: 'iifname "tap0" oifname "sbxn-5" ip saddr 10.203.0.22 ip daddr 10.204.0.21 udp dport 53 ct state new accept',
    },
    { name: "loopback in", line: 'iifname "lo" accept' },
    { name: "loopback out", line: 'oifname "lo" accept' },
  ])("netns accepts only: $name", ({ line }) => {
    expect(netns).toContain(line);
  });

  it("has no other accept in the netns table", () => {
    expect(netns.split("\n").filter((l) => / accept$/.test(l))).toHaveLength(5);
    // ICMP appears only in the account chain, which counts and never decides.
    const deciding = netns.split("chain forward")[1] ?? "";
    expect(deciding).not.toMatch(/icmp|ip6 |daddr 0\.0\.0\.0/);
    expect(netns).toContain("type filter hook prerouting priority raw; policy accept;");
  });

  it("drops the metadata range and IPv6 explicitly, with counters", () => {
    expect(netns).toContain("ip daddr 169.254.0.0/16 counter drop");
    expect(netns).toContain("meta nfproto ipv6 counter drop");
  });

  it("service table is per slot and only guards its own uplink", () => {
    expect(serviceTableName(5)).toBe("sandboxed-5");
    expect(service).toContain("table inet sandboxed-5 {");
    for (const line of service.split("\n").filter((l) => /(accept|drop)$/.test(l))) {
      expect(line).toMatch(/[io]ifname "sbxh-5"/);
    }
    expect(service).not.toContain("policy drop");
  });

  it.each([
    { name: "proxy port 0", proxyPort: 0, dnsPort: 53 },
    { name: "DNS port above 65535", proxyPort: 3128, dnsPort: 65536 },
  ])("rejects $name", ({ proxyPort, dnsPort }) => {
    expect(() => sandboxNetnsRuleset({ ...spec, proxyPort, dnsPort })).toThrow(RangeError);
    expect(() => serviceNamespaceRuleset({ ...spec, proxyPort, dnsPort })).toThrow(RangeError);
  });
});
