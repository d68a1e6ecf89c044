/**
 * Lint findings rendered for people (text), machines (json), GitHub workflow commands (github)
 * and code scanning (sarif 2.1.0). Pure: returns strings; main.ts prints.
 */
import path from "node:path";
import { RULES } from "../policy/index.js";
import type { Finding, RuleId } from "../policy/index.js";

export const FORMATS = ["text", "json", "github", "sarif"] as const;
export type Format = (typeof FORMATS)[number];

export interface Summary {
  readonly files: number;
  readonly errors: number;
  readonly warnings: number;
}

export function summarize(files: number, findings: readonly Finding[]): Summary {
  return {
    files,
    errors: findings.filter((f) => f.severity === "error").length,
    warnings: findings.filter((f) => f.severity === "warning").length,
  };
}

/** Paths relative to `cwd` when inside it, so output is clickable and stable. */
export function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

export function renderText(
  findings: readonly Finding[],
  summary: Summary,
  options: { cwd: string; color: boolean },
): string {
  const paint = (code: number, text: string): string =>
    options.color ? `\u001b[${code}m${text}\u001b[0m` : text;
  const lines: string[] = [];
  for (const f of findings) {
    const sev = f.severity === "error" ? paint(31, "error") : paint(33, "warning");
    lines.push(
      `${displayPath(f.file, options.cwd)}:${f.line}:${f.col} ${sev} ${paint(2, f.rule)} ${f.message}`,
    );
    if (f.hint)
      lines.push(...f.hint.split("\n").map((l, i) => `  ${i === 0 ? "hint: " : "      "}${l}`));
  }
  const total = summary.errors + summary.warnings;
  lines.push(
    total === 0
      ? paint(32, `✔ ${plural(summary.files, "file")} checked, no problems`)
      : paint(
          summary.errors > 0 ? 31 : 33,
          `✖ ${plural(total, "problem")} (${plural(summary.errors, "error")}, ${plural(summary.warnings, "warning")}) in ${plural(summary.files, "file")}`,
        ),
  );
  return `${lines.join("\n")}\n`;
}

export function renderJson(findings: readonly Finding[], summary: Summary, cwd: string): string {
  const out = {
    ...summary,
    findings: findings.map((f) => ({ ...f, file: displayPath(f.file, cwd) })),
  };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Escaping as in @actions/core's command.ts (escapeData / escapeProperty). */
export const escapeData = (s: string): string =>
  s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
export const escapeProperty = (s: string): string =>
  escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");

export function renderGithub(findings: readonly Finding[], cwd: string): string {
  return findings
    .map((f) => {
      const props = [
        `file=${escapeProperty(displayPath(f.file, cwd))}`,
        `line=${f.line}`,
        `col=${f.col}`,
        `endLine=${f.endLine}`,
        `endColumn=${f.endCol}`,
        `title=${escapeProperty(`sandboxed ${f.rule}`)}`,
      ].join(",");
      const text = f.hint ? `${f.message}\nhint: ${f.hint}` : f.message;
      return `::${f.severity} ${props}::${escapeData(text)}\n`;
    })
    .join("");
}

export function renderSarif(findings: readonly Finding[], cwd: string, version: string): string {
  const ids = Object.keys(RULES) as RuleId[];
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "sandboxed",
            version,
            informationUri: "https://github.com/sandboxed/sandboxed/blob/main/docs/policy.md",
            rules: ids.map((id) => ({
              id,
              shortDescription: { text: RULES[id].summary },
              helpUri: `https://github.com/sandboxed/sandboxed/blob/main/docs/policy.md#${id}`,
              defaultConfiguration: { level: RULES[id].severity },
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ids.indexOf(f.rule),
          level: f.severity,
          message: { text: f.hint ? `${f.message}. Fix: ${f.hint}` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: displayPath(f.file, cwd).split(path.sep).join("/") },
                region: {
                  startLine: f.line,
                  startColumn: f.col,
                  endLine: f.endLine,
                  endColumn: f.endCol,
                },
              },
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
