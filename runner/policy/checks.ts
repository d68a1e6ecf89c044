/**
 * Rules that need the resolved view: redundant allow entries across files, and ceilings. Findings
 * about values that came from an extended file point at the `extends` entry that brought them in,
 * so a pull-request annotation lands on a line the author can change.
 */
import path from "node:path";
import { cidrContains } from "./ip-class.js";
import { hostCovers } from "./host-pattern.js";
import type { LoadGraph } from "./load.js";
import { ceilingValue, FIELDS } from "./merge.js";
import type { AllowRule, Finding, ResolvedCeilings, ResolvedPolicy, SourcePos } from "./types.js";
import { formatBandwidth, formatDuration, formatSize } from "./units.js";
import { finding } from "./yaml-source.js";

/** Position in the entry file that stands for `pos` (itself, or the extends entry leading to it). */
export function anchorFor(graph: LoadGraph): (pos: SourcePos) => SourcePos | undefined {
  const via = new Map<string, SourcePos>();
  const entry = graph.files.get(graph.entry);
  const walk = (file: string, at: SourcePos, seen: Set<string>): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!via.has(file)) via.set(file, at);
    for (const parent of graph.files.get(file)?.parents ?? []) walk(parent.file, at, seen);
  };
  for (const parent of entry?.parents ?? []) walk(parent.file, parent.at, new Set());
  return (pos) => (pos.file === graph.entry ? pos : via.get(pos.file));
}

function portsCover(outer: readonly number[], inner: readonly number[]): boolean {
  return inner.every((p) => outer.includes(p));
}

/** Does `outer` allow everything `inner` allows? */
export function ruleCovers(outer: AllowRule, inner: AllowRule): boolean {
  if (!portsCover(outer.ports, inner.ports)) return false;
  if (outer.kind === "host" && inner.kind === "host") return hostCovers(outer, inner);
  if (outer.kind === "cidr" && inner.kind === "cidr") return cidrContains(outer.cidr, inner.cidr);
  return false;
}

function sameRule(a: AllowRule, b: AllowRule): boolean {
  return ruleCovers(a, b) && ruleCovers(b, a);
}

export function describeRule(rule: AllowRule): string {
  const target = rule.kind === "host" ? `${rule.wildcard ? "*." : ""}${rule.host}` : rule.cidr;
  return `${target}:${rule.ports.join(",")}`;
}

function where(pos: SourcePos): string {
  return `${path.basename(pos.file)}:${pos.line}`;
}

/** Duplicate and shadowed entries written in the entry file. */
export function redundancyFindings(graph: LoadGraph, allow: readonly AllowRule[]): Finding[] {
  const out: Finding[] = [];
  allow.forEach((rule, i) => {
    if (rule.source.file !== graph.entry) return;
    for (let j = 0; j < allow.length; j++) {
      const other = allow[j]!;
      if (j === i || !ruleCovers(other, rule)) continue;
      if (sameRule(other, rule)) {
        if (j > i) continue; // report the later copy only
        out.push(
          finding(
            rule.source,
            "duplicate-entry",
            `${describeRule(rule)} is already allowed at ${where(other.source)}`,
            {
              hint: "remove this entry",
            },
          ),
        );
      } else {
        out.push(
          finding(
            rule.source,
            "shadowed-entry",
            `${describeRule(rule)} is already covered by ${describeRule(other)} at ${where(other.source)}`,
            {
              hint: "remove this entry, or narrow the broader one",
            },
          ),
        );
      }
      break;
    }
  });
  return out;
}

function show(field: string, value: number | string | boolean): string {
  if (typeof value !== "number") return String(value);
  if (field === "resources.memory" || field === "resources.disk") return formatSize(value);
  if (field === "resources.timeout") return formatDuration(value);
  if (field.startsWith("network.bandwidth.")) return formatBandwidth(value);
  return String(value);
}

const MODE_ORDER: Readonly<Record<string, number>> = { none: 0, allowlist: 1, audit: 2 };

/** Is `value` within `bound` for this field? */
function within(
  field: string,
  value: number | string | boolean,
  bound: number | string | boolean,
): boolean {
  switch (field) {
    case "isolation.backend":
      return value === bound;
    case "isolation.runtime":
      // A hardened ceiling forbids runc; a runc ceiling permits any runtime.
      return bound === "runc" || value !== "runc";
    case "isolation.sudo":
      return bound === true || value === false;
    case "network.mode":
      return (MODE_ORDER[String(value)] ?? 9) <= (MODE_ORDER[String(bound)] ?? -1);
    default:
      return typeof value === "number" && typeof bound === "number" && value <= bound;
  }
}

function valueOf(p: ResolvedPolicy, field: string): number | string | boolean {
  const table: Record<string, number | string | boolean> = {
    "isolation.backend": p.isolation.backend,
    "isolation.runtime": p.isolation.runtime,
    "isolation.sudo": p.isolation.sudo,
    "resources.cpus": p.resources.cpus,
    "resources.memory": p.resources.memoryBytes,
    "resources.disk": p.resources.diskBytes,
    "resources.pids": p.resources.pids,
    "resources.timeout": p.resources.timeoutSeconds,
    "network.mode": p.network.mode,
    "network.bandwidth.egress": p.network.bandwidth.egressBps,
    "network.bandwidth.ingress": p.network.bandwidth.ingressBps,
  };
  return table[field]!;
}

/** Every way the policy asks for more than the ceilings allow. */
export function ceilingFindings(
  graph: LoadGraph,
  policy: ResolvedPolicy,
  ceilings: ResolvedCeilings,
): Finding[] {
  const anchor = anchorFor(graph);
  const out: Finding[] = [];
  const ceilingsAt = (field: string): string => {
    const pos = ceilings.origins[field];
    return pos ? ` (${where(pos)})` : "";
  };
  for (const field of FIELDS) {
    const bound = ceilingValue(ceilings, field);
    const origin = policy.origins[field];
    if (bound === undefined || !origin || origin.file === "(default)") continue;
    const value = valueOf(policy, field);
    if (within(field, value, bound)) continue;
    const at = anchor(origin);
    if (!at) continue;
    const from = at === origin ? "" : ` (from ${path.basename(origin.file)})`;
    out.push(
      finding(
        at,
        "exceeds-ceiling",
        `${field} ${show(field, value)}${from} exceeds the ceiling ${show(field, bound)}${ceilingsAt(field)}`,
        {
          hint: `write ${field.split(".").pop()}: ${show(field, bound)}${typeof bound === "number" ? " or less" : ""}, or ask the operators to raise the ceiling`,
        },
      ),
    );
  }
  const allowed = ceilings.network.allow;
  if (allowed) {
    for (const rule of policy.network.allow) {
      if (allowed.some((c) => ruleCovers(c, rule))) continue;
      const at = anchor(rule.source);
      if (!at) continue;
      const from = at === rule.source ? "" : ` (from ${path.basename(rule.source.file)})`;
      out.push(
        finding(
          at,
          "exceeds-ceiling",
          `${describeRule(rule)}${from} is not within the destinations the ceilings allow`,
          {
            hint: "remove it, or ask the operators to add it to the ceilings' network.allow",
          },
        ),
      );
    }
  }
  return out;
}
