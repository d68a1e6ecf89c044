/**
 * The GitHub Action (action.yml): the same linter as `sandboxed policy lint`, reporting through
 * @actions/core: annotations on the exact line, a job summary table, and outputs.
 * Bundled into dist/action/index.js by scripts/bundle-action.mjs.
 */
import * as core from "@actions/core";
import { renderError } from "./render-error.js";
import { displayPath } from "./lint-report.js";
import { runLint } from "./lint-command.js";
import type { Finding } from "../policy/index.js";

function annotate(f: Finding, cwd: string): void {
  const props: core.AnnotationProperties = {
    title: `sandboxed ${f.rule}`,
    file: displayPath(f.file, cwd),
    startLine: f.line,
    endLine: f.endLine,
    startColumn: f.col,
    // GitHub drops column ranges that span lines.
    ...(f.endLine === f.line ? { endColumn: f.endCol } : {}),
  };
  const text = f.hint ? `${f.message}\nhint: ${f.hint}` : f.message;
  if (f.severity === "error") core.error(text, props);
  else core.warning(text, props);
}

async function writeSummary(
  findings: readonly Finding[],
  files: number,
  cwd: string,
): Promise<void> {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.length - errors;
  core.summary
    .addHeading("Sandbox policy lint", 2)
    .addRaw(
      findings.length === 0
        ? `✅ ${files} file${files === 1 ? "" : "s"} checked, no problems.`
        : `${errors > 0 ? "❌" : "⚠️"} ${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"} in ${files} file${files === 1 ? "" : "s"}.`,
      true,
    );
  if (findings.length > 0) {
    core.summary.addTable([
      [
        { data: "Location", header: true },
        { data: "Severity", header: true },
        { data: "Rule", header: true },
        { data: "Message", header: true },
        { data: "Fix", header: true },
      ],
      ...findings.map((f) => [
        `${displayPath(f.file, cwd)}:${f.line}:${f.col}`,
        f.severity,
        `<code>${f.rule}</code>`,
        escapeHtml(f.message),
        escapeHtml(f.hint ?? ""),
      ]),
    ]);
  }
  await core.summary.write();
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\n/g, "<br>");
}

export async function runAction(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const cwd = env.GITHUB_WORKSPACE ?? process.cwd();
    const paths = core
      .getInput("paths")
      .split(/[\n\s]+/)
      .filter((p) => p !== "");
    const ceilings = core.getInput("ceilings") || undefined;
    const failOnWarnings = core.getBooleanInput("fail-on-warnings");
    const run = await runLint({
      paths: paths.length > 0 ? paths : [".github/sandbox-policy.yml"],
      ceilings,
      cwd,
    });
    for (const f of run.findings) annotate(f, cwd);
    await writeSummary(run.findings, run.summary.files, cwd);
    core.setOutput("errors", run.summary.errors);
    core.setOutput("warnings", run.summary.warnings);
    if (run.summary.errors > 0) {
      core.setFailed(`${run.summary.errors} policy error(s): see the annotations`);
    } else if (failOnWarnings && run.summary.warnings > 0) {
      core.setFailed(`${run.summary.warnings} policy warning(s) and fail-on-warnings is set`);
    }
  } catch (error) {
    core.setOutput("errors", 1);
    core.setFailed(renderError(error).trim());
  }
}

await runAction();
