/**
 * `sandboxed logs <job>`: a job's stored logs as text. Pure: it takes what the store read and
 * returns a string; the CLI prints it. The outcome comes first, because it is what one looks
 * for; then the sections in the order the job produced them.
 */
import type { JobLogRead, JobLogSummary, StoredJobMeta } from "./types.js";

export type JobLogSection = "summary" | "console" | "runner" | "egress" | "report";

export const JOB_LOG_SECTIONS: readonly JobLogSection[] = [
  "summary",
  "console",
  "runner",
  "egress",
  "report",
];

export interface RenderJobLogOptions {
  /** Which sections, in this order; default all that exist. */
  readonly files?: readonly JobLogSection[];
}

function outcomeLine(read: JobLogRead): string {
  const o = read.files.outcome;
  if (!o) return `job ${read.jobId}: no outcome recorded (still running, or the service stopped)`;
  return `job ${read.jobId} ${o.outcome}${o.title ? `: ${o.title}` : ""}`;
}

function metaLines(meta: StoredJobMeta | undefined, finishedAt: unknown): string[] {
  if (!meta) return ["  (meta.json is missing)"];
  const what = [
    meta.repo,
    [meta.workflowName, meta.jobName].filter(Boolean).join(" / "),
    meta.runId !== undefined
      ? `run ${meta.runId}${meta.runAttempt !== undefined ? ` attempt ${meta.runAttempt}` : ""}`
      : "",
  ];
  const where = [
    meta.labels && meta.labels.length > 0 ? `labels ${meta.labels.join(",")}` : "",
    meta.labelSet ? `label set ${meta.labelSet}` : "",
    meta.sandboxId ? `sandbox ${meta.sandboxId}` : "",
    meta.runnerName ? `runner ${meta.runnerName}` : "",
  ];
  const finished =
    typeof finishedAt === "string"
      ? finishedAt
      : typeof finishedAt === "number"
        ? new Date(finishedAt).toISOString()
        : meta.finishedAt;
  const when = [
    meta.queuedAt ? `queued ${meta.queuedAt}` : "",
    meta.startedAt ? `started ${meta.startedAt}` : "",
    finished ? `finished ${finished}` : "",
  ];
  return [what, where, when]
    .map((parts) => parts.filter((p) => p !== "").join(" · "))
    .filter((line) => line !== "")
    .map((line) => `  ${line}`);
}

function egressLine(d: Record<string, unknown>): string {
  if (typeof d.host !== "string" || typeof d.verdict !== "string") return JSON.stringify(d);
  const verdict = d.wouldDeny === true ? "would deny" : d.verdict;
  const port = typeof d.port === "number" ? `:${d.port}` : "";
  const kind = typeof d.kind === "string" ? `${d.kind} ` : "";
  const reason = typeof d.reason === "string" ? ` ${d.reason}` : "";
  const rule = typeof d.rule === "string" ? ` (rule ${d.rule})` : "";
  return `${String(verdict).padEnd(10)} ${kind}${d.host}${port}${reason}${rule}`;
}

function withNewline(text: string): string {
  return text.endsWith("\n") || text === "" ? text : `${text}\n`;
}

function section(title: string, body: string): string {
  return `\n── ${title} ──\n${withNewline(body)}`;
}

/** The text `sandboxed logs <job>` prints. */
export function renderJobLog(read: JobLogRead, options: RenderJobLogOptions = {}): string {
  const f = read.files;
  let out = `${outcomeLine(read)}\n${metaLines(read.meta, f.outcome?.finishedAt).join("\n")}\n`;
  for (const name of options.files ?? JOB_LOG_SECTIONS) {
    switch (name) {
      case "summary":
        if (f.outcome?.summary) out += section("summary", f.outcome.summary);
        break;
      case "console":
        if (f.console !== undefined) out += section("console.log", f.console);
        break;
      case "runner":
        if (f.runner !== undefined) out += section("runner.log", f.runner);
        break;
      case "egress":
        if (f.egress !== undefined) {
          const denied = f.egress.filter((d) => d.verdict === "deny" || d.wouldDeny === true);
          out += section(
            `egress.jsonl (${f.egress.length} decisions, ${denied.length} denied)`,
            f.egress.map(egressLine).join("\n"),
          );
        }
        break;
      case "report":
        if (f.report !== undefined)
          out += section("report.json", JSON.stringify(f.report, null, 2));
        break;
      default: {
        const never: never = name;
        throw new Error(`unknown section ${String(never)}`);
      }
    }
  }
  return out;
}

/** `sandboxed logs` without a job: one line per job, newest first (the store's order). */
export function renderJobLogList(rows: readonly JobLogSummary[]): string {
  if (rows.length === 0) return "no job logs yet\n";
  const cells = rows.map((r) => [
    r.jobId,
    r.outcome ?? "(running)",
    r.openedAt ?? "",
    [r.repo, r.jobName].filter(Boolean).join(" "),
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells
    .map((c) => `${c.map((v, i) => (i < 3 ? v.padEnd(widths[i]!) : v)).join("  ")}`.trimEnd())
    .join("\n")
    .concat("\n");
}
