/** `policy lint`, shared by the CLI and the GitHub Action (action.ts). */
import path from "node:path";
import { lintPolicyFile, loadCeilings } from "../policy/index.js";
import type { Finding, LintResult, LoadOptions, ResolvedCeilings } from "../policy/index.js";
import { expandPaths, loadOptions } from "./policy-files.js";
import { summarize } from "./lint-report.js";
import type { Summary } from "./lint-report.js";

export interface LintRun {
  readonly results: readonly LintResult[];
  readonly findings: readonly Finding[];
  readonly summary: Summary;
}

export async function runLint(options: {
  paths: readonly string[];
  ceilings?: string | undefined;
  cwd: string;
  load?: LoadOptions;
}): Promise<LintRun> {
  const load = options.load ?? loadOptions();
  const files = await expandPaths(options.paths, options.cwd);
  let ceilings: ResolvedCeilings | undefined;
  if (options.ceilings) ceilings = loadCeilings(path.resolve(options.cwd, options.ceilings), load);
  const results = files.map((file) =>
    lintPolicyFile(file, { ...load, ...(ceilings ? { ceilings } : {}) }),
  );
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const r of results) {
    for (const f of r.findings) {
      // A file both linted and extended by another shows its findings once.
      const key = `${f.file}:${f.line}:${f.col}:${f.rule}:${f.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push(f);
    }
  }
  return { results, findings, summary: summarize(files.length, findings) };
}

/** Exit status: 1 on any error, or on more warnings than allowed. */
export function lintExitCode(summary: Summary, maxWarnings: number | undefined): number {
  if (summary.errors > 0) return 1;
  if (maxWarnings !== undefined && summary.warnings > maxWarnings) return 1;
  return 0;
}
