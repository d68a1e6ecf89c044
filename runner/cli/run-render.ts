/**
 * What `sandboxed run` prints: live, one line per event prefixed with the job (as several jobs
 * may interleave), on stderr so stdout stays clean for --json; then the report a user reads
 * after the run: steps, time split, resources against caps, and egress with the policy line
 * that decided and a hint for each denial.
 */
import { stripVTControlCharacters } from "node:util";
import type { EngineEvent, JobReport, RunReport } from "../engine/index.js";
import { approxSize } from "./format.js";
import type { Io } from "./main.js";

const ICON = { success: "✓", failure: "✗", cancelled: "⊘", skipped: "–" } as const;

function secs(ms: number | undefined): string {
  return ms === undefined ? "n/a" : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * Live output. Full logs when stderr is not a terminal (CI, pipes) or with --verbose. On a
 * terminal, a compact view: one line per finished step, and one status line, rewritten in place,
 * showing the running step and its latest output; a failed step prints its last lines first.
 */
export function createRunRenderer(
  io: Io,
  options: { json: boolean; policyFile: string; verbose?: boolean },
) {
  const color = io.isTty && !io.env.NO_COLOR;
  const compact = io.isTty && options.verbose !== true;
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const dim = (t: string) => paint("2", t);
  let status = "";
  const tail = new Map<string, string[]>();
  const clear = () => (compact && status ? "\r\u001b[2K" : "");
  const redraw = () => (compact && status ? status : "");
  const write = (job: string, text: string) =>
    io.stderr(`${clear()}${paint("36", `[${job}]`)} ${text}\n${redraw()}`);
  // The status line must fit one terminal row, or clearing it would leave its first rows behind.
  const setStatus = (job: string, text: string, code = "2") => {
    const width = Math.max(20, (process.stderr.columns || 80) - job.length - 4);
    const plain = stripVTControlCharacters(text).replace(/\s+/g, " ").trim();
    const next = `${paint("36", `[${job}]`)} ${paint(code, plain.slice(0, width))}`;
    io.stderr(`${clear()}${next}`);
    status = next;
  };
  const out = (job: string, text: string, detail = false) => {
    if (!compact || !detail) return write(job, text);
    const lines = tail.get(job) ?? [];
    lines.push(text);
    if (lines.length > 30) lines.shift();
    tail.set(job, lines);
    setStatus(job, text);
  };
  let depth = 0;
  const event = (e: EngineEvent): void => {
    switch (e.type) {
      case "job-start":
        out(e.job, `▶ job ${e.job} in a fresh sandbox (policy ${options.policyFile})`);
        break;
      case "sandbox": {
        const s = e.event;
        if (s.type === "phase")
          out(e.job, dim(`sandbox: ${s.phase}${s.detail ? ` (${s.detail})` : ""}`));
        else if (s.type === "egress" && s.decision.verdict === "deny" && s.decision.kind !== "dns")
          out(
            e.job,
            paint(
              "33",
              `egress denied: ${s.decision.host}:${s.decision.port} (${s.decision.reason})`,
            ),
          );
        break;
      }
      case "step-start":
        depth = 0;
        tail.set(e.job, []);
        if (compact) setStatus(e.job, `▸ ${e.name}`, "1");
        else out(e.job, paint("1", `▸ ${e.name}`));
        break;
      case "line": {
        if (e.text.startsWith("##[group]")) {
          out(e.job, `  ${dim("▾")} ${e.text.slice(9)}`, true);
          depth = 1;
        } else if (e.text.startsWith("##[endgroup]")) depth = 0;
        else
          out(e.job, `  ${depth ? "  " : ""}${e.stream === "stderr" ? dim(e.text) : e.text}`, true);
        break;
      }
      case "group":
        if (e.title !== undefined) {
          out(e.job, `  ${dim("▾")} ${e.title}`, true);
          depth = 1;
        } else depth = 0;
        break;
      case "annotation": {
        const a = e.annotation;
        const where = a.file
          ? ` ${a.file}${a.line ? `:${a.line}` : ""}${a.col ? `:${a.col}` : ""}`
          : "";
        const code = a.level === "error" ? "31" : a.level === "warning" ? "33" : "34";
        out(
          e.job,
          paint(code, `  ${a.level}${where}: ${a.title ? `${a.title}: ` : ""}${a.message}`),
        );
        break;
      }
      case "step-end": {
        const s = e.step;
        const icon = ICON[s.conclusion];
        const note =
          s.outcome === "failure" && s.conclusion === "success"
            ? " (failed; continue-on-error)"
            : "";
        const code = s.conclusion === "failure" ? "31" : s.conclusion === "success" ? "32" : "2";
        // Compact view: a failed step shows what it printed last, where the user needs it.
        if (compact && s.outcome === "failure")
          for (const l of tail.get(e.job) ?? []) write(e.job, l);
        if (compact) {
          io.stderr(clear());
          status = "";
        }
        out(e.job, paint(code, `${icon} ${s.name}${note}`) + dim(` ${secs(s.durationMs)}`));
        break;
      }
      case "job-end":
        if (compact) status = "";
        out(
          e.job,
          paint(
            e.report.result === "failure" ? "31" : "32",
            `${ICON[e.report.result]} job ${e.report.result}`,
          ),
        );
        break;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  };
  return {
    event: options.json
      ? () => undefined
      : (e: EngineEvent) => {
          event(e);
          if (compact && e.type === "job-end") io.stderr(clear());
        },
    note: (text: string) => {
      if (!options.json) io.stderr(`${text}\n`);
    },
  };
}

function renderJob(j: JobReport, policyFile: string): string[] {
  const lines: string[] = [];
  const s = j.sandbox;
  const t = j.timings;
  lines.push(
    `${ICON[j.result]} job ${j.name}: ${j.result}` +
      (t
        ? ` in ${secs(t.totalMs)} (boot ${secs(t.bootMs)} · steps ${secs(t.stepsMs)} · teardown ${secs(t.teardownMs)})`
        : ""),
  );
  if (j.error) lines.push(`    ${j.error.split("\n").join("\n    ")}`);
  if (s?.breach) lines.push(`    limit: ${s.breach.message}`);
  const width = Math.min(60, Math.max(20, ...j.steps.map((x) => x.name.length)));
  for (const step of j.steps) {
    const note =
      step.outcome === "failure" && step.conclusion === "success"
        ? "failed, continue-on-error"
        : step.timedOut
          ? "timed out"
          : step.exitCode !== undefined && step.exitCode !== 0 && step.exitCode !== null
            ? `exit ${step.exitCode}`
            : "";
    lines.push(
      `    ${ICON[step.conclusion]} ${step.name.slice(0, width).padEnd(width)} ${secs(step.durationMs).padStart(7)}  ${note}`,
    );
  }
  if (s) {
    const l = s.limits;
    const p = s.peaks;
    lines.push(
      `    resources  memory ${approxSize(p.memoryBytes)} of ${approxSize(l.memoryBytes)} · ` +
        `disk ${approxSize(p.diskBytes)} of ${approxSize(l.diskBytes)} · ` +
        `processes ${p.pids ?? "n/a"} of ${l.pids} · ${l.cpus} cpu · ${s.backend}`,
    );
    if (s.egress) {
      const e = s.egress;
      const denied = e.decisions.filter((d) => d.verdict === "deny" || d.wouldDeny);
      lines.push(
        `    egress     ${e.mode}: ${e.allowed} allowed, ${e.denied} denied${e.mode === "audit" ? `, ${denied.length} would be denied` : ""}`,
      );
      const seen = new Set<string>();
      for (const d of e.decisions) {
        const key = `${d.verdict}${d.wouldDeny ? "!" : ""} ${d.host}:${d.port}`;
        if (seen.has(key) || d.kind === "dns") continue;
        seen.add(key);
        if (d.verdict === "deny" || d.wouldDeny) {
          lines.push(
            `      ✗ ${d.host}:${d.port} ${d.kind} ${d.wouldDeny ? "would be denied" : "denied"}: ${d.reason}`,
          );
          lines.push(`        hint: add \`${d.host}\` to network.allow in ${policyFile}`);
        } else {
          lines.push(
            `      ✓ ${d.host}:${d.port} ${d.kind} allowed${d.rule ? ` by ${d.rule}` : ""}`,
          );
        }
      }
      const dropped = Object.entries(e.droppedPackets ?? {}).filter(([, n]) => n > 0);
      if (dropped.length)
        lines.push(
          `      direct packets dropped: ${dropped.map(([k, n]) => `${k} ${n}`).join(", ")}`,
        );
    }
  }
  const notes = j.annotations.filter((a) => a.level !== "notice" || a.origin === "step");
  if (notes.length) {
    lines.push("    annotations");
    for (const a of notes) {
      const where = a.file
        ? ` ${a.file}${a.line ? `:${a.line}` : ""}${a.col ? `:${a.col}` : ""}`
        : "";
      lines.push(`      ${a.level}${where}: ${a.title ? `${a.title}: ` : ""}${a.message}`);
    }
  }
  if (j.summary.trim()) {
    lines.push("    summary");
    for (const l of j.summary.trimEnd().split("\n")) lines.push(`      ${l}`);
  }
  return lines;
}

export function renderRunReport(r: RunReport, options: { policyFile: string }): string {
  const lines = [
    "",
    `── ${r.workflow === r.file ? r.file : `${r.workflow} (${r.file})`} · ${r.event} ── ${ICON[r.result]} ${r.result} in ${secs(r.durationMs)}`,
    ...r.jobs.flatMap((j) => renderJob(j, options.policyFile)),
  ];
  return `${lines.join("\n")}\n`;
}
