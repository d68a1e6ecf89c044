// policy suggest (issue 4 item 6): from an audit log to the smallest allowlist, which lints clean.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadOptions } from "../../runner/cli/policy-files.js";
import { lintPolicyFile, suggestPolicy } from "../../runner/policy/index.js";
import type { ResolvedPolicy } from "../../runner/policy/index.js";

const line = (o: Record<string, unknown>): string =>
  JSON.stringify({
    time: "2026-11-24T00:00:00Z",
    job: "j1",
    verdict: "allow",
    reason: "audit",
    ...o,
  });

const LOG = [
  "step 1: npm ci",
  line({ kind: "connect", host: "registry.npmjs.org", port: 443 }),
  line({ kind: "connect", host: "PyPI.org.", port: 443, wouldDeny: true }),
  line({ kind: "http", host: "deb.debian.org", port: 80, wouldDeny: true }),
  line({ kind: "connect", host: "api.github.com", port: 443 }),
  line({ kind: "connect", host: "pypi.org", port: 8443, wouldDeny: true }),
  line({ kind: "dns", host: "only-resolved.example.com", port: 53, qtype: "A" }),
  line({ kind: "connect", host: "203.0.113.9", port: 5432, wouldDeny: true }),
  "{ not json",
].join("\n");

describe("suggestPolicy", () => {
  const load = loadOptions();
  const preset = lintPolicyFile(path.join(load.presetDir, "github-actions.yml"), load)
    .resolved as ResolvedPolicy;

  it("lists every destination the job connected to, with exactly the ports it used", () => {
    const s = suggestPolicy({ log: LOG });
    expect(s.yaml).toContain("- { host: pypi.org, ports: [ 443, 8443 ] }");
    expect(s.yaml).toContain("- { host: deb.debian.org, ports: [ 80 ] }");
    expect(s.yaml).toContain("- { cidr: 203.0.113.9/32, ports: [ 5432 ] }");
    expect(s.yaml).not.toContain("only-resolved");
    expect(s.destinations).toBe(5);
  });

  it("reads a sandbox report's egress decisions as well as a log of decision lines", () => {
    const decisions = LOG.split("\n").filter((l) => l.startsWith('{"time'));
    const report = JSON.stringify({
      id: "sbx-1",
      egress: { decisions: decisions.map((d) => JSON.parse(d)) },
    });
    expect(suggestPolicy({ log: report }).yaml).toBe(suggestPolicy({ log: LOG }).yaml);
  });

  it("leaves out what the extended presets already allow", () => {
    const s = suggestPolicy({
      log: LOG,
      extendsPresets: [{ name: "github-actions", allow: preset.network.allow }],
    });
    expect(s.yaml).toContain("extends:\n  - github-actions");
    expect(s.yaml).not.toContain("api.github.com");
    expect(s.skippedByPresets).toBe(1);
  });

  it("writes a policy that lints with no errors", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-suggest-"));
    const file = path.join(dir, "suggested.yml");
    writeFileSync(
      file,
      suggestPolicy({
        log: LOG,
        extendsPresets: [{ name: "github-actions", allow: preset.network.allow }],
      }).yaml,
    );
    const r = lintPolicyFile(file, load);
    expect(r.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(r.resolved?.kind).toBe("Policy");
  });
});
