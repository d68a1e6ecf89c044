import { describe, expect, it } from "vitest";
import { hostCovers, hostMatches, parseHostPattern } from "../../runner/policy/index.js";

describe("parseHostPattern", () => {
  it.each<{
    name: string;
    text: string;
    host?: string;
    wildcard?: boolean;
    rule?: string;
    hint?: string;
  }>([
    // --- valid names and wildcards ---
    { name: "a name", text: "registry.npmjs.org", host: "registry.npmjs.org", wildcard: false },
    {
      name: "a wildcard",
      text: "*.githubusercontent.com",
      host: "githubusercontent.com",
      wildcard: true,
    },
    { name: "two labels", text: "pypi.org", host: "pypi.org", wildcard: false },
    {
      name: "punycode",
      text: "xn--bcher-kva.example",
      host: "xn--bcher-kva.example",
      wildcard: false,
    },
    { name: "digits and hyphens", text: "a-1.b2.example", host: "a-1.b2.example", wildcard: false },
    {
      name: "63-character label",
      text: `${"a".repeat(63)}.example`,
      host: `${"a".repeat(63)}.example`,
      wildcard: false,
    },
    // --- label and name length boundaries ---
    {
      name: "64-character label",
      text: `${"a".repeat(64)}.example`,
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    {
      name: "name over 253 characters",
      text: `${"a.".repeat(127)}ab`,
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    {
      name: "leading hyphen",
      text: "-a.example",
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    {
      name: "empty label",
      text: "a..example",
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    // --- allow everything ---
    {
      name: "*",
      text: "*",
      rule: "allow-everything",
      hint: "list the hosts the job needs, or use network.mode: audit to find them",
    },
    {
      name: "*.*",
      text: "*.*",
      rule: "allow-everything",
      hint: "list the hosts the job needs, or use network.mode: audit to find them",
    },
    {
      name: "*.com",
      text: "*.com",
      rule: "allow-everything",
      hint: "name the domain: *.example.com",
    },
    // --- wildcards elsewhere ---
    {
      name: "wildcard mid-label",
      text: "api.*.example.com",
      rule: "invalid-host",
      hint: "write *.example.com",
    },
    {
      name: "partial-label wildcard",
      text: "*api.example.com",
      rule: "invalid-host",
      hint: "write *.example.com",
    },
    {
      name: "double wildcard",
      text: "*.*.example.com",
      rule: "invalid-host",
      hint: "write *.example.com",
    },
    // --- normal form: trailing dot, case, IDN ---
    {
      name: "trailing dot",
      text: "registry.npmjs.org.",
      rule: "invalid-host",
      hint: "write registry.npmjs.org",
    },
    {
      name: "wildcard with trailing dot",
      text: "*.example.com.",
      rule: "invalid-host",
      hint: "write *.example.com",
    },
    {
      name: "uppercase",
      text: "Registry.NPMjs.org",
      rule: "invalid-host",
      hint: "write registry.npmjs.org",
    },
    {
      name: "IDN",
      text: "bücher.example",
      rule: "invalid-host",
      hint: "write xn--bcher-kva.example",
    },
    {
      name: "IDN wildcard",
      text: "*.bücher.example",
      rule: "invalid-host",
      hint: "write *.xn--bcher-kva.example",
    },
    {
      name: "Cyrillic look-alike of apple.com",
      text: "аpple.com",
      rule: "invalid-host",
      hint: "write xn--pple-43d.com",
    },
    // --- other shapes people paste ---
    { name: "URL", text: "https://pypi.org/simple", rule: "invalid-host", hint: "write pypi.org" },
    {
      name: "host:port",
      text: "pypi.org:443",
      rule: "invalid-host",
      hint: "write { host: pypi.org, ports: [443] }",
    },
    {
      name: "single label",
      text: "internal",
      rule: "invalid-host",
      hint: "write a fully qualified name such as registry.example.com",
    },
    {
      name: "localhost",
      text: "localhost",
      rule: "invalid-host",
      hint: "write a fully qualified name such as registry.example.com",
    },
    {
      name: "space inside",
      text: "pypi .org",
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    {
      name: "empty",
      text: "",
      rule: "invalid-host",
      hint: "use letters, digits and hyphens in dot-separated labels of up to 63 characters",
    },
    // --- IP literals ---
    {
      name: "IPv4 literal",
      text: "203.0.113.7",
      rule: "ip-literal-host",
      hint: "write { cidr: 203.0.113.7/32, ports: [443] }",
    },
    {
      name: "IMDS literal",
      text: "169.254.169.254",
      rule: "ip-literal-host",
      hint: "write { cidr: 169.254.169.254/32, ports: [443] }",
    },
    {
      name: "IPv6 literal",
      text: "2001:db8::7",
      rule: "ip-literal-host",
      hint: "write { cidr: 2001:db8::7/128, ports: [443] }",
    },
    {
      name: "bracketed IPv6",
      text: "[::1]",
      rule: "ip-literal-host",
      hint: "write { cidr: ::1/128, ports: [443] }",
    },
  ])("$name", ({ text, host, wildcard, rule, hint }) => {
    const result = parseHostPattern(text);
    if (host !== undefined) {
      expect(result).toEqual({ ok: true, host, wildcard });
    } else {
      expect(result).toMatchObject({ ok: false, rule, hint });
      expect((result as { message: string }).message).toContain(JSON.stringify(text).slice(1, -1));
    }
  });
});

describe("hostMatches", () => {
  const exact = { host: "github.com", wildcard: false };
  const wild = { host: "github.com", wildcard: true };
  it.each([
    // --- exact names ---
    { name: "exact: same name", pattern: exact, host: "github.com", expect: true },
    {
      name: "exact: a subdomain does not match",
      pattern: exact,
      host: "api.github.com",
      expect: false,
    },
    { name: "exact: suffix without dot", pattern: exact, host: "evilgithub.com", expect: false },
    {
      name: "exact: trailing dot is not normalised here",
      pattern: exact,
      host: "github.com.",
      expect: false,
    },
    // --- wildcards: apex, one level, deeper ---
    { name: "wildcard: apex does not match", pattern: wild, host: "github.com", expect: false },
    { name: "wildcard: one level", pattern: wild, host: "api.github.com", expect: true },
    { name: "wildcard: two levels", pattern: wild, host: "a.b.github.com", expect: true },
    { name: "wildcard: suffix without dot", pattern: wild, host: "evilgithub.com", expect: false },
    {
      name: "wildcard: name that ends in the pattern",
      pattern: wild,
      host: "github.com.evil.com",
      expect: false,
    },
    {
      name: "wildcard: uppercase is not lowered here",
      pattern: wild,
      host: "API.GITHUB.COM",
      expect: false,
    },
    { name: "wildcard: other domain", pattern: wild, host: "gitlab.com", expect: false },
  ])("$name", ({ pattern, host, expect: matches }) => {
    expect(hostMatches(pattern, host)).toBe(matches);
  });
});

describe("hostCovers", () => {
  const p = (text: string) => ({
    host: text.replace(/^\*\./, ""),
    wildcard: text.startsWith("*."),
  });
  it.each([
    // --- exact outer ---
    { name: "a name covers itself", outer: "github.com", inner: "github.com", expect: true },
    {
      name: "a name does not cover another",
      outer: "github.com",
      inner: "api.github.com",
      expect: false,
    },
    {
      name: "a name does not cover a wildcard",
      outer: "github.com",
      inner: "*.github.com",
      expect: false,
    },
    // --- wildcard outer ---
    {
      name: "wildcard covers a subdomain",
      outer: "*.github.com",
      inner: "api.github.com",
      expect: true,
    },
    {
      name: "wildcard covers a deeper wildcard",
      outer: "*.github.com",
      inner: "*.api.github.com",
      expect: true,
    },
    { name: "wildcard covers itself", outer: "*.github.com", inner: "*.github.com", expect: true },
    {
      name: "wildcard does not cover its apex",
      outer: "*.github.com",
      inner: "github.com",
      expect: false,
    },
    {
      name: "wildcard does not cover a dotless suffix",
      outer: "*.github.com",
      inner: "evilgithub.com",
      expect: false,
    },
    {
      name: "wildcard does not cover a dotless wildcard",
      outer: "*.github.com",
      inner: "*.evilgithub.com",
      expect: false,
    },
    {
      name: "a deeper wildcard does not cover a shallower one",
      outer: "*.api.github.com",
      inner: "*.github.com",
      expect: false,
    },
  ])("$name", ({ outer, inner, expect: covers }) => {
    expect(hostCovers(p(outer), p(inner))).toBe(covers);
  });
});
