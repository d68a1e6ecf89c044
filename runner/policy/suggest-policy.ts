/**
 * `sandboxed policy suggest <job-log>`: the smallest allowlist that lets the same job pass.
 * Input: the job log's egress decision lines (one JSON object per line; other lines ignored),
 * typically from a run in `network.mode: audit`. Every destination the job connected to, allowed
 * or would-have-been-denied, becomes an entry with exactly the ports it used; destinations
 * already covered by the presets listed in `extendsPresets` are left out. Pure: text in, text out.
 */
import { Document, isMap, isSeq } from "yaml";
import { isIpLiteral } from "./ip-class.js";
import { hostMatches } from "./host-pattern.js";
import type { AllowRule } from "./types.js";

export interface SuggestInput {
  /** The job log text. */
  readonly log: string;
  /** Preset names to extend, and their resolved allow rules (to drop what they already cover). */
  readonly extendsPresets?: readonly {
    readonly name: string;
    readonly allow: readonly AllowRule[];
  }[];
}

export interface Suggestion {
  readonly yaml: string;
  readonly destinations: number;
  readonly skippedByPresets: number;
}

interface Seen {
  readonly host: string;
  readonly ports: Set<number>;
}

/** A sandbox report (`sandbox exec --report`) holds the same decisions under egress.decisions. */
function reportLines(log: string): string[] | undefined {
  try {
    // A sandbox report (`sandbox exec --report`), or a run report (`run --report`) of many jobs.
    const report = JSON.parse(log) as {
      egress?: { decisions?: unknown[] };
      jobs?: { sandbox?: { egress?: { decisions?: unknown[] } } }[];
    };
    const decisions = Array.isArray(report.jobs)
      ? report.jobs.flatMap((j) => j.sandbox?.egress?.decisions ?? [])
      : report.egress?.decisions;
    return Array.isArray(decisions) ? decisions.map((d) => JSON.stringify(d)) : undefined;
  } catch {
    return undefined;
  }
}

function decisionLines(log: string): { kind: string; host: string; port: number }[] {
  const out: { kind: string; host: string; port: number }[] = [];
  for (const line of reportLines(log) ?? log.split("\n")) {
    const start = line.indexOf("{");
    if (start < 0) continue;
    try {
      const d = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (
        (d.kind === "http" || d.kind === "connect") &&
        typeof d.host === "string" &&
        typeof d.port === "number"
      ) {
        out.push({ kind: d.kind, host: d.host.toLowerCase().replace(/\.$/, ""), port: d.port });
      }
    } catch {
      // not a decision line
    }
  }
  return out;
}

function coveredBy(rules: readonly AllowRule[], host: string, port: number): boolean {
  return rules.some((r) => r.kind === "host" && r.ports.includes(port) && hostMatches(r, host));
}

export function suggestPolicy(input: SuggestInput): Suggestion {
  const presets = input.extendsPresets ?? [];
  const presetRules = presets.flatMap((p) => p.allow);
  const byHost = new Map<string, Seen>();
  let skipped = 0;
  for (const d of decisionLines(input.log)) {
    if (coveredBy(presetRules, d.host, d.port)) {
      skipped += 1;
      continue;
    }
    const seen = byHost.get(d.host) ?? { host: d.host, ports: new Set<number>() };
    seen.ports.add(d.port);
    byHost.set(d.host, seen);
  }
  const entries = [...byHost.values()]
    .sort((a, b) => a.host.localeCompare(b.host))
    .map((s) => {
      const ports = [...s.ports].sort((a, b) => a - b);
      if (isIpLiteral(s.host)) {
        const bare = s.host.replace(/^\[|\]$/g, "");
        return { cidr: `${bare}/${bare.includes(":") ? 128 : 32}`, ports };
      }
      return { host: s.host, ports };
    });
  const doc = {
    apiVersion: "sandboxed/v1",
    kind: "Policy",
    description: "Suggested from an audit run: every destination the job reached, nothing more.",
    ...(presets.length > 0 ? { extends: presets.map((p) => p.name) } : {}),
    network: { mode: "allowlist", allow: entries },
  };
  const yamlDoc = new Document(doc);
  // One allow entry per line, as people write them.
  const allow = yamlDoc.getIn(["network", "allow"], true);
  if (isSeq(allow)) for (const item of allow.items) if (isMap(item)) item.flow = true;
  const yaml = yamlDoc.toString();
  return {
    yaml: `# yaml-language-server: $schema=https://github.com/sandboxed/sandboxed/raw/main/policies/policy.schema.json\n${yaml}`,
    destinations: entries.length,
    skippedByPresets: skipped,
  };
}
