/**
 * Merging a file with what it extends into one resolved policy. Rules, in order:
 * 1. Files apply in `extends` order, depth first, each extended file before the one extending it;
 *    a file reached twice applies once, at its first place.
 * 2. A scalar set in a later file replaces the earlier value; the entry file applies last.
 * 3. `network.allow` lists are concatenated in the same order.
 * 4. A Policy's unset fields take DEFAULTS, lowered to the ceiling when one is lower.
 * Ceilings files merge the same way but get no defaults: unset means "no bound".
 */
import type { LoadGraph, LoadedFile } from "./load.js";
import type { AllowEntryInput, PolicyInput } from "./schema.js";
import type { AllowRule, ResolvedCeilings, ResolvedPolicy, SourcePos } from "./types.js";
import { parseBandwidth, parseDuration, parseSize } from "./units.js";
import { locate } from "./yaml-source.js";

export const DEFAULT_PORTS: readonly number[] = [80, 443];

export const DEFAULTS = {
  "isolation.backend": "vm",
  "isolation.runtime": "auto",
  "isolation.sudo": true,
  "resources.cpus": 2,
  "resources.memory": "4GiB",
  "resources.disk": "20GiB",
  "resources.pids": 4096,
  "resources.timeout": "6h",
  "network.mode": "allowlist",
  "network.bandwidth.egress": "100Mbit",
  "network.bandwidth.ingress": "1Gbit",
} as const;

type Field = keyof typeof DEFAULTS;
export const FIELDS = Object.keys(DEFAULTS) as Field[];

const DEFAULT_ORIGIN: SourcePos = { file: "(default)", line: 0, col: 0, endLine: 0, endCol: 0 };

/** Files of the graph in merge order (rule 1). */
export function mergeOrder(graph: LoadGraph): LoadedFile[] {
  const out: LoadedFile[] = [];
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const loaded = graph.files.get(file);
    if (!loaded) return;
    for (const parent of loaded.parents) visit(parent.file);
    out.push(loaded);
  };
  visit(graph.entry);
  return out;
}

interface Merged {
  values: Partial<Record<Field, string | number | boolean>>;
  origins: Record<string, SourcePos>;
  allow: AllowRule[] | undefined;
  enforce: boolean;
}

function mergeFiles(files: readonly LoadedFile[]): Merged {
  const merged: Merged = { values: {}, origins: {}, allow: undefined, enforce: false };
  for (const file of files) {
    const input = file.input;
    if (!input) continue;
    if (input.enforce !== undefined) merged.enforce = input.enforce;
    for (const field of FIELDS) {
      const path = field.split(".");
      const value = pick(input, path);
      if (value === undefined) continue;
      merged.values[field] = value as string | number | boolean;
      merged.origins[field] = locate(file.source, path);
    }
    const allow = input.network?.allow;
    if (allow) {
      merged.allow = [
        ...(merged.allow ?? []),
        ...allow.map((entry, i) => toRule(entry, locate(file.source, ["network", "allow", i]))),
      ];
    }
  }
  return merged;
}

export function toRule(entry: AllowEntryInput, source: SourcePos): AllowRule {
  const ports = (list: readonly number[] | undefined): number[] =>
    [...new Set(list ?? DEFAULT_PORTS)].sort((a, b) => a - b);
  if (typeof entry === "string" || "host" in entry) {
    const text = typeof entry === "string" ? entry : entry.host;
    const wildcard = text.startsWith("*.");
    return {
      kind: "host",
      host: wildcard ? text.slice(2) : text,
      wildcard,
      ports: ports(typeof entry === "string" ? undefined : entry.ports),
      source,
    };
  }
  return { kind: "cidr", cidr: entry.cidr, ports: ports(entry.ports), source };
}

function pick(input: PolicyInput, path: readonly string[]): unknown {
  let v: unknown = input;
  for (const key of path)
    v = v && typeof v === "object" ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Numeric value of a field in base units (bytes, bits/s, seconds), or the raw value. */
export function numeric(field: Field, value: string | number | boolean): number | string | boolean {
  if (typeof value !== "string") return value;
  if (field === "resources.memory" || field === "resources.disk") return unwrap(parseSize(value));
  if (field === "resources.timeout") return unwrap(parseDuration(value));
  if (field.startsWith("network.bandwidth.")) return unwrap(parseBandwidth(value));
  return value;
}

function unwrap(r: { ok: true; value: number } | { ok: false }): number {
  // Validated input only reaches here; a failure is a bug, not a user error.
  if (!r.ok) throw new Error("unit did not validate");
  return r.value;
}

const MODE_ORDER = { none: 0, allowlist: 1, audit: 2 } as const;

/** Default lowered to the ceiling (rule 4). */
function clampDefault(
  field: Field,
  ceilings: ResolvedCeilings | undefined,
): string | number | boolean {
  const fallback = DEFAULTS[field];
  const bound = ceilings ? ceilingValue(ceilings, field) : undefined;
  if (bound === undefined) return fallback;
  const def = numeric(field, fallback);
  if (typeof def === "number" && typeof bound === "number") return Math.min(def, bound);
  if (field === "isolation.sudo") return def === true && bound === false ? false : def;
  if (field === "network.mode") {
    return MODE_ORDER[def as keyof typeof MODE_ORDER] > MODE_ORDER[bound as keyof typeof MODE_ORDER]
      ? bound
      : def;
  }
  if (field === "isolation.backend") return bound;
  return def;
}

export function ceilingValue(
  c: ResolvedCeilings,
  field: Field,
): number | string | boolean | undefined {
  const table: Record<Field, number | string | boolean | undefined> = {
    "isolation.backend": c.isolation.backend,
    "isolation.runtime": c.isolation.runtime,
    "isolation.sudo": c.isolation.sudo,
    "resources.cpus": c.resources.cpus,
    "resources.memory": c.resources.memoryBytes,
    "resources.disk": c.resources.diskBytes,
    "resources.pids": c.resources.pids,
    "resources.timeout": c.resources.timeoutSeconds,
    "network.mode": c.network.mode,
    "network.bandwidth.egress": c.network.bandwidth.egressBps,
    "network.bandwidth.ingress": c.network.bandwidth.ingressBps,
  };
  return table[field];
}

export function resolvePolicyGraph(graph: LoadGraph, ceilings?: ResolvedCeilings): ResolvedPolicy {
  const files = mergeOrder(graph);
  const m = mergeFiles(files);
  const origins: Record<string, SourcePos> = {};
  const get = (field: Field): number | string | boolean => {
    const raw = m.values[field];
    origins[field] = m.origins[field] ?? DEFAULT_ORIGIN;
    return raw === undefined ? numeric(field, clampDefault(field, ceilings)) : numeric(field, raw);
  };
  return {
    apiVersion: "sandboxed/v1",
    kind: "Policy",
    files: files.map((f) => f.file),
    enforce: m.enforce,
    isolation: {
      backend: get("isolation.backend") as ResolvedPolicy["isolation"]["backend"],
      runtime: get("isolation.runtime") as ResolvedPolicy["isolation"]["runtime"],
      sudo: get("isolation.sudo") as boolean,
    },
    resources: {
      cpus: get("resources.cpus") as number,
      memoryBytes: get("resources.memory") as number,
      diskBytes: get("resources.disk") as number,
      pids: get("resources.pids") as number,
      timeoutSeconds: get("resources.timeout") as number,
    },
    network: {
      mode: get("network.mode") as ResolvedPolicy["network"]["mode"],
      bandwidth: {
        egressBps: get("network.bandwidth.egress") as number,
        ingressBps: get("network.bandwidth.ingress") as number,
      },
      allow: m.allow ?? [],
    },
    origins,
  };
}

export function resolveCeilingsGraph(graph: LoadGraph): ResolvedCeilings {
  const files = mergeOrder(graph);
  const m = mergeFiles(files);
  const get = <T>(field: Field): T | undefined => {
    const raw = m.values[field];
    return raw === undefined ? undefined : (numeric(field, raw) as T);
  };
  return {
    kind: "Ceilings",
    files: files.map((f) => f.file),
    isolation: {
      backend: get("isolation.backend"),
      runtime: get("isolation.runtime"),
      sudo: get("isolation.sudo"),
    },
    resources: {
      cpus: get("resources.cpus"),
      memoryBytes: get("resources.memory"),
      diskBytes: get("resources.disk"),
      pids: get("resources.pids"),
      timeoutSeconds: get("resources.timeout"),
    },
    network: {
      mode: get("network.mode"),
      bandwidth: {
        egressBps: get("network.bandwidth.egress"),
        ingressBps: get("network.bandwidth.ingress"),
      },
      ...(m.allow === undefined ? {} : { allow: m.allow }),
    },
    origins: m.origins,
  };
}
