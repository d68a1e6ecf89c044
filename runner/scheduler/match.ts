/**
 * Which label set serves a job: a pure decision, default deny (STYLE H9).
 *
 * GitHub gives a job to any runner whose labels include all of the job's `runs-on` labels,
 * compared without case (docs: "Choosing self-hosted runners for a job"). Our runners carry their
 * label set's labels plus the three a self-hosted runner has by default, so a job that says
 * `runs-on: [self-hosted, linux, sandboxed]` is ours too. Evaluation order:
 *
 *  1. no labels at all                      → deny "no-labels"
 *  2. a label not in any set (nor default)  → deny "not-ours"
 *  3. only default labels (`self-hosted`)   → deny "default-labels-only": such a job may go to any
 *     self-hosted runner; taking it would pull jobs meant for other machines into ours
 *  4. sets that cover every label           → the one with the fewest labels (the tightest fit);
 *     ties go to the first in the config file
 */
import type { LabelSet } from "./types.js";

/** Labels every self-hosted Linux x64 runner has (the official runner adds them at config). */
export const DEFAULT_RUNNER_LABELS = ["self-hosted", "linux", "x64"] as const;

export type MatchReason = "no-labels" | "not-ours" | "default-labels-only";

export type MatchVerdict =
  | { readonly verdict: "serve"; readonly labelSet: LabelSet }
  | { readonly verdict: "ignore"; readonly reason: MatchReason };

const lower = (labels: readonly string[]): string[] => labels.map((l) => l.toLowerCase());

/** The labels a runner for this set registers with. */
export function runnerLabels(set: LabelSet): string[] {
  return [...new Set([...DEFAULT_RUNNER_LABELS, ...set.labels])];
}

export function matchLabelSet(
  jobLabels: readonly string[],
  labelSets: readonly LabelSet[],
): MatchVerdict {
  const wanted = lower(jobLabels);
  if (wanted.length === 0) return { verdict: "ignore", reason: "no-labels" };
  const defaults = new Set<string>(DEFAULT_RUNNER_LABELS);
  const covering = labelSets.filter((set) => {
    const have = new Set([...defaults, ...lower(set.labels)]);
    return wanted.every((l) => have.has(l));
  });
  if (covering.length === 0) return { verdict: "ignore", reason: "not-ours" };
  if (wanted.every((l) => defaults.has(l)))
    return { verdict: "ignore", reason: "default-labels-only" };
  let best = covering[0]!;
  for (const set of covering) if (set.labels.length < best.labels.length) best = set;
  return { verdict: "serve", labelSet: best };
}
