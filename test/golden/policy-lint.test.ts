/**
 * Golden files for `policy lint` (STYLE H12, after workflow-parser's xlang.test.ts). Each file in
 * policy-lint/ is: options YAML `---` policy text `---` expected text output. The policy may itself
 * hold `---` lines (the second-document case): it is everything between the first and the last
 * separator. Options: `ceilings: |` (text of a ceilings file) and `files:` (name -> text, for
 * `extends: [./base.yml]`). Files live in a virtual folder /golden; only the shipped presets are
 * read from disk. `UPDATE_GOLDEN=1 npx vitest run test/golden` rewrites the expected sections.
 * No skip list: every file is a case.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderText, summarize } from "../../runner/cli/lint-report.js";
import { loadOptions } from "../../runner/cli/policy-files.js";
import { lintPolicyFile, loadCeilings, RULES } from "../../runner/policy/index.js";
import type { RuleId } from "../../runner/policy/index.js";

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "policy-lint");
const ROOT = "/golden";
const UPDATE = process.env.UPDATE_GOLDEN === "1";

interface GoldenCase {
  readonly name: string;
  readonly file: string;
  /** Options and policy sections, verbatim, each ending with its `---` line. */
  readonly head: string;
  readonly ceilings: string | undefined;
  readonly files: Readonly<Record<string, string>>;
  readonly policy: string;
  readonly expected: string;
}

function readCase(name: string): GoldenCase {
  const file = path.join(DIR, name);
  const lines = readFileSync(file, "utf8").split("\n");
  const first = lines.indexOf("---");
  const last = lines.lastIndexOf("---");
  if (first < 0 || last === first) throw new Error(`${name}: needs options --- policy --- expected`);
  const options = (parse(lines.slice(0, first).join("\n")) ?? {}) as {
    ceilings?: string;
    files?: Record<string, string>;
  };
  const body = lines.slice(first + 1, last);
  return {
    name: name.replace(/\.yaml$/, ""),
    file,
    head: `${lines.slice(0, last + 1).join("\n")}\n`,
    ceilings: options.ceilings,
    files: options.files ?? {},
    policy: body.length === 0 ? "" : `${body.join("\n")}\n`,
    expected: lines.slice(last + 1).join("\n"),
  };
}

function lint(c: GoldenCase): string {
  const real = loadOptions();
  const disk = new Map<string, string>([[path.join(ROOT, "policy.yml"), c.policy]]);
  for (const [name, text] of Object.entries(c.files)) disk.set(path.join(ROOT, name), text);
  if (c.ceilings !== undefined) disk.set(path.join(ROOT, "ceilings.yml"), c.ceilings);
  const readFile = (file: string): string | undefined =>
    file.startsWith(`${ROOT}/`)
      ? disk.get(file)
      : file.startsWith(`${real.presetDir}${path.sep}`)
        ? real.readFile(file)
        : undefined;
  const options = { ...real, readFile };
  const ceilings =
    c.ceilings === undefined ? undefined : loadCeilings(path.join(ROOT, "ceilings.yml"), options);
  const { findings } = lintPolicyFile(path.join(ROOT, "policy.yml"), { ...options, ceilings });
  return renderText(findings, summarize(1, findings), { cwd: ROOT, color: false });
}

const cases = readdirSync(DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(readCase);

describe("policy lint golden files", () => {
  it.each(cases)("$name", (c) => {
    const actual = lint(c);
    if (UPDATE) {
      writeFileSync(c.file, c.head + actual);
      return;
    }
    expect(actual).toBe(c.expected);
  });

  it("has at least 36 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(36);
  });

  it("exercises every rule id in the catalog", () => {
    const seen = new Set<string>();
    for (const c of cases) {
      for (const m of c.expected.matchAll(/^\S+:\d+:\d+ (?:error|warning) (\S+) /gm)) {
        seen.add(m[1]!);
      }
    }
    const missing = (Object.keys(RULES) as RuleId[]).filter((id) => !seen.has(id));
    expect(missing).toEqual([]);
  });
});
