import { describe, expect, it } from "vitest";
import { decideAddress, decideEgress, normalizeHost } from "../../runner/policy/index.js";
import type {
  AllowRule,
  EgressReason,
  NetworkPolicy,
  NormalHost,
} from "../../runner/policy/index.js";

let line = 0;
const at = () => ({ file: "policy.yml", line: ++line, col: 5, endLine: line, endCol: 20 });
const host = (pattern: string, ports: number[] = [443]): AllowRule => ({
  kind: "host",
  host: pattern.replace(/^\*\./, ""),
  wildcard: pattern.startsWith("*."),
  ports,
  source: at(),
});
const cidr = (text: string, ports: number[] = [443]): AllowRule => ({
  kind: "cidr",
  cidr: text,
  ports,
  source: at(),
});

const RULES: readonly AllowRule[] = [
  host("api.example.com", [443]),
  host("*.github.com", [443, 80]),
  host("registry.npmjs.org", [443]),
  cidr("10.20.0.0/16", [8080]),
  cidr("fd00:1::/64", [443]),
];
const policy = (
  mode: NetworkPolicy["mode"],
  allow: readonly AllowRule[] = RULES,
): NetworkPolicy => ({
  mode,
  bandwidth: { egressBps: 1, ingressBps: 1 },
  allow,
});
const ENFORCE = policy("allowlist");

describe("normalizeHost", () => {
  it.each<{ name: string; text: string; expect: NormalHost }>([
    { name: "plain name", text: "example.com", expect: { kind: "name", host: "example.com" } },
    { name: "upper case", text: "EXAMPLE.Com", expect: { kind: "name", host: "example.com" } },
    {
      name: "one trailing dot",
      text: "example.com.",
      expect: { kind: "name", host: "example.com" },
    },
    { name: "two trailing dots", text: "example.com..", expect: { kind: "invalid" } },
    { name: "empty", text: "", expect: { kind: "invalid" } },
    { name: "just a dot", text: ".", expect: { kind: "invalid" } },
    { name: "empty label", text: "a..com", expect: { kind: "invalid" } },
    { name: "space", text: "a b.com", expect: { kind: "invalid" } },
    { name: "IDN unicode (clients send punycode)", text: "bücher.de", expect: { kind: "invalid" } },
    {
      name: "punycode",
      text: "xn--bcher-kva.de",
      expect: { kind: "name", host: "xn--bcher-kva.de" },
    },
    { name: "numeric last label", text: "1.2.3.4.5", expect: { kind: "invalid" } },
    { name: "hex last label", text: "a.0x7f", expect: { kind: "invalid" } },
    {
      name: "253 chars",
      text: `${"a".repeat(63)}.`.repeat(3) + "a".repeat(61),
      expect: { kind: "name", host: `${"a".repeat(63)}.`.repeat(3) + "a".repeat(61) },
    },
    {
      name: "254 chars",
      text: `${"a".repeat(63)}.`.repeat(3) + "a".repeat(62),
      expect: { kind: "invalid" },
    },
    {
      name: "63-char label",
      text: `${"a".repeat(63)}.com`,
      expect: { kind: "name", host: `${"a".repeat(63)}.com` },
    },
    { name: "64-char label", text: `${"a".repeat(64)}.com`, expect: { kind: "invalid" } },
    { name: "IPv4", text: "10.20.0.1", expect: { kind: "ip", host: "10.20.0.1" } },
    { name: "IPv4 as one number", text: "2130706433", expect: { kind: "ip", host: "127.0.0.1" } },
    { name: "IPv4 short form", text: "127.1", expect: { kind: "ip", host: "127.0.0.1" } },
    { name: "IPv4 hex octet", text: "0x7f.0.0.1", expect: { kind: "ip", host: "127.0.0.1" } },
    { name: "bracketed IPv6", text: "[FD00:1::5]", expect: { kind: "ip", host: "fd00:1::5" } },
    { name: "IPv6 zone id", text: "fe80::1%eth0", expect: { kind: "invalid" } },
  ])("$name", ({ text, expect: want }) => {
    expect(normalizeHost(text)).toEqual(want);
  });
});

describe("decideEgress (enforce)", () => {
  it.each<{
    name: string;
    host: string;
    port: number | "any";
    verdict: "allow" | "deny";
    reason: EgressReason;
    rule?: number;
  }>([
    // --- exact host rules ---
    {
      name: "exact name and port",
      host: "api.example.com",
      port: 443,
      verdict: "allow",
      reason: "host-rule",
      rule: 0,
    },
    {
      name: "exact name, upper case",
      host: "API.EXAMPLE.COM",
      port: 443,
      verdict: "allow",
      reason: "host-rule",
      rule: 0,
    },
    {
      name: "exact name, trailing dot",
      host: "api.example.com.",
      port: 443,
      verdict: "allow",
      reason: "host-rule",
      rule: 0,
    },
    {
      name: "exact name, forbidden port",
      host: "api.example.com",
      port: 22,
      verdict: "deny",
      reason: "port-not-allowed",
    },
    {
      name: "exact name, port one above",
      host: "api.example.com",
      port: 444,
      verdict: "deny",
      reason: "port-not-allowed",
    },
    {
      name: "exact name, port one below",
      host: "api.example.com",
      port: 442,
      verdict: "deny",
      reason: "port-not-allowed",
    },
    {
      name: "subdomain of exact name",
      host: "x.api.example.com",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "parent of exact name",
      host: "example.com",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "allowed name as prefix of attacker domain",
      host: "api.example.com.evil.tld",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    // --- wildcard rules ---
    {
      name: "wildcard subdomain",
      host: "api.github.com",
      port: 443,
      verdict: "allow",
      reason: "host-rule",
      rule: 1,
    },
    {
      name: "wildcard deep subdomain",
      host: "a.b.github.com",
      port: 80,
      verdict: "allow",
      reason: "host-rule",
      rule: 1,
    },
    {
      name: "wildcard apex is not matched",
      host: "github.com",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "evilgithub.com vs *.github.com",
      host: "evilgithub.com",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "github.com.evil.tld vs *.github.com",
      host: "github.com.evil.tld",
      port: 443,
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "wildcard, forbidden port",
      host: "api.github.com",
      port: 22,
      verdict: "deny",
      reason: "port-not-allowed",
    },
    // --- names that are not names ---
    {
      name: "unicode look-alike",
      host: "аpi.example.com",
      port: 443,
      verdict: "deny",
      reason: "invalid-host",
    },
    { name: "empty host", host: "", port: 443, verdict: "deny", reason: "invalid-host" },
    {
      name: "host with port",
      host: "api.example.com:443",
      port: 443,
      verdict: "deny",
      reason: "invalid-host",
    },
    // --- IP literals ---
    {
      name: "IP literal in cidr with port",
      host: "10.20.3.4",
      port: 8080,
      verdict: "allow",
      reason: "cidr-rule",
      rule: 3,
    },
    {
      name: "IP literal at top of cidr",
      host: "10.20.255.255",
      port: 8080,
      verdict: "allow",
      reason: "cidr-rule",
      rule: 3,
    },
    {
      name: "IP literal just above cidr",
      host: "10.21.0.0",
      port: 8080,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "IP literal just below cidr",
      host: "10.19.255.255",
      port: 8080,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "IP literal in cidr, wrong port",
      host: "10.20.3.4",
      port: 443,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "IP literal of an allowed name's server",
      host: "140.82.112.3",
      port: 443,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "metadata literal",
      host: "169.254.169.254",
      port: 443,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "IPv4-mapped metadata literal",
      host: "[::ffff:169.254.169.254]",
      port: 443,
      verdict: "deny",
      reason: "ip-literal",
    },
    {
      name: "IPv4-mapped literal inside cidr",
      host: "::ffff:10.20.0.9",
      port: 8080,
      verdict: "allow",
      reason: "cidr-rule",
      rule: 3,
    },
    {
      name: "decimal IPv4 literal",
      host: "169090305",
      port: 8080,
      verdict: "allow",
      reason: "cidr-rule",
      rule: 3,
    },
    {
      name: "IPv6 literal in cidr",
      host: "[fd00:1::7]",
      port: 443,
      verdict: "allow",
      reason: "cidr-rule",
      rule: 4,
    },
    {
      name: "IPv6 literal outside cidr",
      host: "fd00:2::7",
      port: 443,
      verdict: "deny",
      reason: "ip-literal",
    },
    // --- any port (the DNS filter's question) ---
    {
      name: "any port, exact name",
      host: "registry.npmjs.org",
      port: "any",
      verdict: "allow",
      reason: "host-rule",
      rule: 2,
    },
    {
      name: "any port, unknown name",
      host: "npmjs.org",
      port: "any",
      verdict: "deny",
      reason: "no-matching-rule",
    },
  ])("$name", ({ host: h, port, verdict, reason, rule }) => {
    const got = decideEgress(ENFORCE, { host: h, port });
    expect({ verdict: got.verdict, reason: got.reason }).toEqual({ verdict, reason });
    expect(got.rule).toBe(rule === undefined ? undefined : RULES[rule]);
    expect(got.wouldDeny).toBeUndefined();
  });

  it("first matching rule wins", () => {
    const rules = [host("*.example.com", [443]), host("api.example.com", [443])];
    expect(
      decideEgress(policy("allowlist", rules), { host: "api.example.com", port: 443 }).rule,
    ).toBe(rules[0]);
  });

  it("a later rule with the port allows when an earlier match lacks it", () => {
    const rules = [host("*.example.com", [80]), host("api.example.com", [443])];
    expect(
      decideEgress(policy("allowlist", rules), { host: "api.example.com", port: 443 }).rule,
    ).toBe(rules[1]);
  });
});

describe("decideEgress (modes)", () => {
  it.each<{
    name: string;
    mode: NetworkPolicy["mode"];
    host: string;
    verdict: "allow" | "deny";
    reason: EgressReason;
    wouldDeny?: boolean;
    wouldReason?: EgressReason;
  }>([
    {
      name: "none denies an allowed name",
      mode: "none",
      host: "api.example.com",
      verdict: "deny",
      reason: "mode-none",
    },
    {
      name: "audit allows an allowed name",
      mode: "audit",
      host: "api.example.com",
      verdict: "allow",
      reason: "audit",
      wouldDeny: false,
      wouldReason: "host-rule",
    },
    {
      name: "audit allows an unknown name",
      mode: "audit",
      host: "evil.tld",
      verdict: "allow",
      reason: "audit",
      wouldDeny: true,
      wouldReason: "no-matching-rule",
    },
    {
      name: "audit allows an IP literal",
      mode: "audit",
      host: "169.254.169.254",
      verdict: "allow",
      reason: "audit",
      wouldDeny: true,
      wouldReason: "ip-literal",
    },
    {
      name: "audit allows an invalid host",
      mode: "audit",
      host: "a..b",
      verdict: "allow",
      reason: "audit",
      wouldDeny: true,
      wouldReason: "invalid-host",
    },
  ])("$name", ({ name: _name, mode, host: h, ...want }) => {
    const got = decideEgress(policy(mode), { host: h, port: 443 });
    expect({
      verdict: got.verdict,
      reason: got.reason,
      wouldDeny: got.wouldDeny,
      wouldReason: got.wouldReason,
    }).toEqual({ wouldDeny: undefined, wouldReason: undefined, ...want });
  });

  it("audit keeps the rule that would have allowed", () => {
    expect(decideEgress(policy("audit"), { host: "api.example.com", port: 443 }).rule).toBe(
      RULES[0],
    );
  });

  it("an unknown mode denies", () => {
    const bad = { ...ENFORCE, mode: "open" } as unknown as NetworkPolicy;
    expect(decideEgress(bad, { host: "api.example.com", port: 443 })).toEqual({
      verdict: "deny",
      reason: "unknown-mode",
    });
    expect(decideAddress(bad, { host: "x.y", port: 443 }, "8.8.8.8").verdict).toBe("deny");
  });
});

describe("decideAddress", () => {
  const LOOPBACK_OK = [...RULES, cidr("127.0.0.0/8", [8443])];
  it.each<{
    name: string;
    address: string;
    port?: number | "any";
    allow?: readonly AllowRule[];
    verdict: "allow" | "deny";
    reason: EgressReason;
    cls: string | undefined;
  }>([
    // --- public ---
    {
      name: "public IPv4",
      address: "140.82.112.3",
      verdict: "allow",
      reason: "public-address",
      cls: "public",
    },
    {
      name: "public IPv6",
      address: "2606:4700::1111",
      verdict: "allow",
      reason: "public-address",
      cls: "public",
    },
    // --- rebinding targets ---
    {
      name: "loopback",
      address: "127.0.0.1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "loopback",
    },
    {
      name: "IPv6 loopback",
      address: "::1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "loopback",
    },
    {
      name: "metadata 169.254.169.254",
      address: "169.254.169.254",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "IPv4-mapped metadata",
      address: "::ffff:169.254.169.254",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "IPv4-mapped metadata in hex",
      address: "::ffff:a9fe:a9fe",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "NAT64 metadata",
      address: "64:ff9b::a9fe:a9fe",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "6to4 metadata",
      address: "2002:a9fe:a9fe::",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "AWS IMDS IPv6",
      address: "fd00:ec2::254",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    {
      name: "link-local",
      address: "169.254.1.1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "link-local",
    },
    {
      name: "private 10/8",
      address: "10.0.0.1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "private",
    },
    {
      name: "CGNAT",
      address: "100.64.0.1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "shared",
    },
    {
      name: "unspecified",
      address: "0.0.0.0",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "unspecified",
    },
    {
      name: "multicast",
      address: "224.0.0.1",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "multicast",
    },
    {
      name: "broadcast",
      address: "255.255.255.255",
      verdict: "deny",
      reason: "forbidden-address",
      cls: "reserved",
    },
    // --- cidr rules allow special classes, on their ports only ---
    {
      name: "private inside cidr with port",
      address: "10.20.0.1",
      port: 8080,
      verdict: "allow",
      reason: "cidr-rule",
      cls: "private",
    },
    {
      name: "private inside cidr, wrong port",
      address: "10.20.0.1",
      port: 443,
      verdict: "deny",
      reason: "forbidden-address",
      cls: "private",
    },
    {
      name: "private just outside cidr",
      address: "10.21.0.1",
      port: 8080,
      verdict: "deny",
      reason: "forbidden-address",
      cls: "private",
    },
    {
      name: "private inside cidr, any port",
      address: "10.20.0.1",
      port: "any",
      verdict: "allow",
      reason: "cidr-rule",
      cls: "private",
    },
    {
      name: "loopback with loopback cidr",
      address: "127.0.0.1",
      port: 8443,
      allow: LOOPBACK_OK,
      verdict: "allow",
      reason: "cidr-rule",
      cls: "loopback",
    },
    {
      name: "IPv4-mapped loopback with loopback cidr",
      address: "::ffff:127.0.0.1",
      port: 8443,
      allow: LOOPBACK_OK,
      verdict: "allow",
      reason: "cidr-rule",
      cls: "loopback",
    },
    {
      name: "loopback cidr does not open metadata",
      address: "169.254.169.254",
      port: 8443,
      allow: LOOPBACK_OK,
      verdict: "deny",
      reason: "forbidden-address",
      cls: "metadata",
    },
    // --- not an address ---
    {
      name: "a name",
      address: "example.com",
      verdict: "deny",
      reason: "invalid-address",
      cls: undefined,
    },
  ])("$name", ({ address, port = 443, allow = RULES, verdict, reason, cls }) => {
    const got = decideAddress(policy("allowlist", allow), { host: "x.example.com", port }, address);
    expect({ verdict: got.verdict, reason: got.reason, cls: got.addressClass }).toEqual({
      verdict,
      reason,
      cls,
    });
  });

  it("none denies even a public address", () => {
    expect(decideAddress(policy("none"), { host: "a.b", port: 443 }, "8.8.8.8").reason).toBe(
      "mode-none",
    );
  });

  it("audit allows metadata and records wouldDeny", () => {
    expect(decideAddress(policy("audit"), { host: "a.b", port: 443 }, "169.254.169.254")).toEqual({
      verdict: "allow",
      reason: "audit",
      wouldDeny: true,
      wouldReason: "forbidden-address",
      addressClass: "metadata",
    });
  });

  it("audit of a public address would allow", () => {
    expect(decideAddress(policy("audit"), { host: "a.b", port: 443 }, "8.8.8.8").wouldDeny).toBe(
      false,
    );
  });
});
