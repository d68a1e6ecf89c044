/**
 * What a finished service job was, from the host's side, and the markdown the repository sees in
 * its check run (or commit status description). Pure: the same inputs give the same text.
 */
import { formatSize } from "../policy/index.js";
import type { SandboxReport } from "../sandbox/index.js";
import type { JobOutcome, JobResult } from "./types.js";

export interface OutcomeInput {
  readonly report?: SandboxReport;
  /** What the runner said: Succeeded, Failed, Canceled (actions/runner TaskResult). */
  readonly runnerResult?: string;
  readonly taken: boolean;
  readonly abortedFor?: "idle" | "cancelled";
  /** The error that stopped the job before or outside the sandbox. */
  readonly error?: string;
  readonly refused?: string;
}

/** Evaluation order: refused, host error, breach, broken sandbox, no job taken, the runner's word. */
export function outcomeOf(input: OutcomeInput): { outcome: JobOutcome; title: string } {
  if (input.refused) return { outcome: "refused", title: `refused: ${input.refused}` };
  if (input.error)
    return { outcome: "infrastructure", title: `infrastructure_error: ${input.error}` };
  const report = input.report;
  if (report?.breach) return { outcome: "limit", title: report.breach.message };
  if (report?.outcome === "infrastructure")
    return {
      outcome: "infrastructure",
      title: `infrastructure_error: ${report.error ?? "the sandbox broke"}`,
    };
  if (!input.taken) {
    if (input.abortedFor === "cancelled")
      return { outcome: "cancelled", title: "the job was cancelled before the runner took it" };
    return { outcome: "idle", title: "the runner took no job before the idle deadline" };
  }
  switch (input.runnerResult) {
    case "Succeeded":
      return { outcome: "success", title: "the job ran in a sandbox under policy" };
    case "Canceled":
    case "Cancelled":
      return { outcome: "cancelled", title: "the job was cancelled" };
    case undefined:
      return report?.outcome === "success"
        ? { outcome: "success", title: "the job ran in a sandbox under policy" }
        : { outcome: "failure", title: "the runner ended without reporting a result" };
    default:
      return { outcome: "failure", title: `the job's steps failed (${input.runnerResult})` };
  }
}

function egressSection(report: SandboxReport): string[] {
  const egress = report.egress;
  if (!egress) return ["**Network:** none"];
  const denied = new Map<string, { count: number; reason: string }>();
  for (const d of egress.decisions) {
    if (d.verdict !== "deny") continue;
    const key = d.kind === "dns" ? `${d.host} (DNS ${d.qtype ?? "?"})` : `${d.host}:${d.port}`;
    const seen = denied.get(key);
    denied.set(key, { count: (seen?.count ?? 0) + 1, reason: d.reason });
  }
  const lines = [`**Egress (${egress.mode}):** ${egress.allowed} allowed, ${egress.denied} denied`];
  if (denied.size > 0) {
    lines.push("", "| destination | reason | count |", "|---|---|---|");
    for (const [dest, { count, reason }] of [...denied].slice(0, 50))
      lines.push(`| \`${dest}\` | ${reason} | ${count} |`);
  }
  const dropped = Object.entries(egress.droppedPackets ?? {}).filter(([, n]) => n > 0);
  if (dropped.length > 0)
    lines.push(
      "",
      `Direct attempts dropped on the host: ${dropped.map(([k, n]) => `${k} ${n}`).join(", ")}`,
    );
  return lines;
}

function resourceSection(report: SandboxReport): string[] {
  const { peaks, limits } = report;
  const row = (what: string, peak: string, limit: string): string =>
    `| ${what} | ${peak} | ${limit} |`;
  return [
    "| resource | peak | limit |",
    "|---|---|---|",
    row(
      "memory",
      peaks.memoryBytes === undefined ? "–" : formatSize(peaks.memoryBytes),
      formatSize(limits.memoryBytes),
    ),
    row(
      "disk",
      peaks.diskBytes === undefined ? "–" : formatSize(peaks.diskBytes),
      formatSize(limits.diskBytes),
    ),
    row("pids", peaks.pids === undefined ? "–" : String(peaks.pids), String(limits.pids)),
    row(
      "cpu time",
      peaks.cpuSeconds === undefined ? "–" : `${peaks.cpuSeconds.toFixed(1)} s`,
      `${limits.cpus} cpus`,
    ),
  ];
}

export function resultOf(
  input: OutcomeInput & { readonly policySummary: string; readonly sandboxId?: string },
): JobResult {
  const { outcome, title } = outcomeOf(input);
  const parts = [`### ${title}`, "", "```", input.policySummary, "```", ""];
  if (input.report) {
    const t = input.report.timings;
    parts.push(
      `Sandbox \`${input.sandboxId ?? input.report.id}\` (${input.report.backend}): boot ${((t.bootMs ?? 0) / 1000).toFixed(1)} s, total ${(t.totalMs / 1000).toFixed(1)} s.`,
      "",
      ...resourceSection(input.report),
      "",
      ...egressSection(input.report),
    );
  }
  return {
    outcome,
    title,
    summary: parts.join("\n"),
    ...(input.report ? { report: input.report } : {}),
  };
}
