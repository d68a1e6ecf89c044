/**
 * The linter: load a file and what it extends, collect every finding from every file (STYLE H7:
 * all errors, not the first), then resolve and run the cross-file checks when the files are sound.
 */
import path from "node:path";
import { ceilingFindings, redundancyFindings } from "./checks.js";
import { loadGraph } from "./load.js";
import type { LoadGraph, LoadOptions } from "./load.js";
import { resolveCeilingsGraph, resolvePolicyGraph } from "./merge.js";
import type { Finding, ResolvedCeilings, ResolvedPolicy } from "./types.js";
import { finding } from "./yaml-source.js";

export interface LintResult {
  readonly file: string;
  readonly kind: "Policy" | "Ceilings" | undefined;
  readonly findings: readonly Finding[];
  /** Present when the files had no errors. */
  readonly resolved: ResolvedPolicy | ResolvedCeilings | undefined;
}

export function lintPolicyFile(
  file: string,
  options: LoadOptions & { ceilings?: ResolvedCeilings },
): LintResult {
  const graph = loadGraph(file, options);
  const findings: Finding[] = [];
  for (const loaded of graph.files.values()) findings.push(...loaded.findings);
  const kind = graph.files.get(file)?.input?.kind;
  findings.push(...kindMismatches(graph, kind));
  let resolved: ResolvedPolicy | ResolvedCeilings | undefined;
  if (kind && !findings.some((f) => f.severity === "error")) {
    if (kind === "Policy") {
      const policy = resolvePolicyGraph(graph, options.ceilings);
      findings.push(...redundancyFindings(graph, policy.network.allow));
      if (options.ceilings) findings.push(...ceilingFindings(graph, policy, options.ceilings));
      resolved = policy;
    } else {
      const ceilings = resolveCeilingsGraph(graph);
      findings.push(...redundancyFindings(graph, ceilings.network.allow ?? []));
      resolved = ceilings;
    }
    if (findings.some((f) => f.severity === "error")) resolved = undefined;
  }
  return { file, kind, findings: sortFindings(dedupe(findings)), resolved };
}

function kindMismatches(graph: LoadGraph, kind: string | undefined): Finding[] {
  const out: Finding[] = [];
  for (const loaded of graph.files.values()) {
    for (const parent of loaded.parents) {
      const parentKind = graph.files.get(parent.file)?.input?.kind;
      if (kind && parentKind && parentKind !== kind) {
        out.push(
          finding(
            parent.at,
            "schema",
            `a ${kind} cannot extend ${path.basename(parent.file)}, which is a ${parentKind}`,
            {
              hint: `extend only ${kind} files`,
            },
          ),
        );
      }
    }
  }
  return out;
}

function dedupe(findings: readonly Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.file}:${f.line}:${f.col}:${f.rule}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      a.file.localeCompare(b.file) ||
      a.line - b.line ||
      a.col - b.col ||
      a.rule.localeCompare(b.rule),
  );
}
