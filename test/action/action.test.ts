// The action run the way GitHub runs it: node on the committed bundle, inputs as INPUT_*
// variables, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT files (issue 2).
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const BUNDLE = path.resolve("dist/action/index.js");

interface ActionRun {
  code: number;
  stdout: string;
  summary: string;
  outputs: Record<string, string>;
}

async function runAction(
  files: Record<string, string>,
  inputs: Record<string, string>,
): Promise<ActionRun> {
  const ws = mkdtempSync(path.join(tmpdir(), "sbx-action-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(ws, name)), { recursive: true });
    writeFileSync(path.join(ws, name), text);
  }
  const summary = path.join(ws, "summary.md");
  const output = path.join(ws, "output.txt");
  writeFileSync(summary, "");
  writeFileSync(output, "");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GITHUB_WORKSPACE: ws,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    "INPUT_FAIL-ON-WARNINGS": "false",
    INPUT_CEILINGS: "",
    INPUT_PATHS: ".github/sandbox-policy.yml",
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  let code = 0;
  let stdout: string;
  try {
    ({ stdout } = await run(process.execPath, [BUNDLE], { cwd: ws, env }));
  } catch (error) {
    const e = error as { code: number; stdout: string };
    code = e.code;
    stdout = e.stdout;
  }
  const outputs: Record<string, string> = {};
  const lines = readFileSync(output, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^([\w-]+)<<(.+)$/.exec(lines[i]!);
    if (m) outputs[m[1]!] = lines[i + 1]!;
  }
  return { code, stdout, summary: readFileSync(summary, "utf8"), outputs };
}

const BROKEN = `apiVersion: sandboxed/v1
kind: Policy
resources:
  cpus: 2
  memroy: 4GiB
network:
  allow:
    - { cidr: 10.20.0.0/16, ports: [5432] }
`;

const CLEAN = `apiVersion: sandboxed/v1
kind: Policy
extends: [github-actions, npm]
`;

describe("action.yml bundle", () => {
  it("annotates the exact line, writes the summary and fails on errors", async () => {
    const r = await runAction({ ".github/sandbox-policy.yml": BROKEN }, {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "::error title=sandboxed unknown-key,file=.github/sandbox-policy.yml,line=5,endLine=5,col=3,endColumn=9::unknown key memroy in resources%0Ahint: did you mean memory?",
    );
    expect(r.stdout).toContain(
      "::warning title=sandboxed private-cidr,file=.github/sandbox-policy.yml,line=8,endLine=8,col=15,endColumn=27::",
    );
    expect(r.stdout).toMatch(/^::error::1 policy error\(s\)/m);
    expect(r.summary).toContain("<h2>Sandbox policy lint</h2>");
    expect(r.summary).toContain("1 error, 1 warning in 1 file");
    expect(r.summary).toContain(
      "<td>.github/sandbox-policy.yml:5:3</td><td>error</td><td><code>unknown-key</code></td>",
    );
    expect(r.outputs).toEqual({ errors: "1", warnings: "1" });
  });

  it("passes a clean policy and says so in the summary", async () => {
    const r = await runAction({ ".github/sandbox-policy.yml": CLEAN }, {});
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("::error");
    expect(r.summary).toContain("1 file checked, no problems");
    expect(r.outputs).toEqual({ errors: "0", warnings: "0" });
  });

  it("fails on warnings only when fail-on-warnings is true", async () => {
    const warnOnly = BROKEN.replace("memroy", "memory");
    const lenient = await runAction({ "p.yml": warnOnly }, { paths: "p.yml" });
    expect(lenient.code).toBe(0);
    const strict = await runAction(
      { "p.yml": warnOnly },
      { paths: "p.yml", "fail-on-warnings": "true" },
    );
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain("::error::1 policy warning(s) and fail-on-warnings is set");
  });

  it("lints every file a glob matches and checks ceilings", async () => {
    const r = await runAction(
      {
        "policies/a.yml": CLEAN,
        "policies/b.yml": "apiVersion: sandboxed/v1\nkind: Policy\nresources: { memory: 64GiB }\n",
        "ops/ceilings.yml":
          "apiVersion: sandboxed/v1\nkind: Ceilings\nresources: { memory: 16GiB }\n",
      },
      { paths: "policies/*.yml", ceilings: "ops/ceilings.yml" },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      "::error title=sandboxed exceeds-ceiling,file=policies/b.yml,line=3,endLine=3,col=22,endColumn=27::resources.memory 64GiB exceeds the ceiling 16GiB (ceilings.yml:3)",
    );
    expect(r.outputs.errors).toBe("1");
  });

  it("reports a path that matches nothing as a failure, not a pass", async () => {
    const r = await runAction({}, { paths: "missing/*.yml" });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("::error::sandboxed: no policy files match missing/*.yml");
    expect(r.outputs.errors).toBe("1");
  });
});
