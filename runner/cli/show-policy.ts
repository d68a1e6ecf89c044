/** `policy show`: the fully resolved policy, in normal form (YAML) or as JSON. */
import { Document, isMap, isSeq } from "yaml";
import { formatBandwidth, formatDuration, formatSize } from "../policy/index.js";
import type { AllowRule, ResolvedCeilings, ResolvedPolicy, SourcePos } from "../policy/index.js";
import { displayPath } from "./lint-report.js";

const origin = (pos: SourcePos | undefined, cwd: string): string =>
  !pos || pos.file === "(default)"
    ? "default"
    : `${displayPath(pos.file, cwd)}:${pos.line}:${pos.col}`;

function ruleJson(rule: AllowRule, cwd: string): Record<string, unknown> {
  const base =
    rule.kind === "host"
      ? { host: `${rule.wildcard ? "*." : ""}${rule.host}` }
      : { cidr: rule.cidr };
  return { ...base, ports: rule.ports, source: origin(rule.source, cwd) };
}

export function showJson(p: ResolvedPolicy | ResolvedCeilings, cwd: string): string {
  const origins = Object.fromEntries(
    Object.entries(p.origins).map(([k, v]) => [k, origin(v, cwd)]),
  );
  const out = {
    ...p,
    files: p.files.map((f) => displayPath(f, cwd)),
    network: {
      ...p.network,
      ...(p.network.allow ? { allow: p.network.allow.map((r) => ruleJson(r, cwd)) } : {}),
    },
    origins,
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** The resolved policy as a policy file: what a flattened copy of it would say. */
export function showYaml(p: ResolvedPolicy, cwd: string): string {
  const doc = {
    apiVersion: p.apiVersion,
    kind: p.kind,
    ...(p.enforce ? { enforce: true } : {}),
    isolation: p.isolation,
    resources: {
      cpus: p.resources.cpus,
      memory: formatSize(p.resources.memoryBytes),
      disk: formatSize(p.resources.diskBytes),
      pids: p.resources.pids,
      timeout: formatDuration(p.resources.timeoutSeconds),
    },
    network: {
      mode: p.network.mode,
      bandwidth: {
        egress: formatBandwidth(p.network.bandwidth.egressBps),
        ingress: formatBandwidth(p.network.bandwidth.ingressBps),
      },
      allow: p.network.allow.map((r) =>
        r.kind === "host"
          ? { host: `${r.wildcard ? "*." : ""}${r.host}`, ports: [...r.ports] }
          : { cidr: r.cidr, ports: [...r.ports] },
      ),
    },
  };
  const header = [
    `# Resolved from: ${p.files.map((f) => displayPath(f, cwd)).join(" <- ")}`,
    `# Fields not set in any file take the defaults (docs/policy.md#defaults).`,
  ];
  const yaml = new Document(doc);
  // One allow entry per line, as people write them.
  const allow = yaml.getIn(["network", "allow"], true);
  if (isSeq(allow)) for (const item of allow.items) if (isMap(item)) item.flow = true;
  return `${header.join("\n")}\n${yaml.toString()}`;
}
