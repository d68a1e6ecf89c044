// The CLI as a user runs it: the built bin, real files, exit codes and output (issue 2).
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { policyJsonSchema } from "../../runner/policy/index.js";

const exec = promisify(execFile);
const BIN = path.resolve("bin/sandboxed.js");

async function cli(
  args: string[],
  cwd = process.cwd(),
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, NO_COLOR: "1" },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function workdir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-cli-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

describe("sandboxed policy lint", () => {
  it("the shipped policies lint clean", async () => {
    const r = await cli(["policy", "lint", "policies/"]);
    expect(r.stdout).toMatch(/^✔ \d+ files checked, no problems$/m);
    expect(r.code).toBe(0);
  });

  it("prints file:line:col severity rule message, a hint, and exits 1 on errors", async () => {
    const dir = workdir({
      "p.yml": "apiVersion: sandboxed/v1\nkind: Policy\nresources: { cpu: 2 }\n",
    });
    const r = await cli(["policy", "lint", "p.yml"], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      "p.yml:3:14 error unknown-key unknown key cpu in resources\n  hint: did you mean cpus?\n✖ 1 problem (1 error, 0 warnings) in 1 file\n",
    );
  });

  it("fails on more warnings than --max-warnings allows", async () => {
    const dir = workdir({
      "p.yml":
        "apiVersion: sandboxed/v1\nkind: Policy\nnetwork: { allow: [{ cidr: 10.0.0.0/8, ports: [5432] }] }\n",
    });
    expect((await cli(["policy", "lint", "p.yml"], dir)).code).toBe(0);
    expect((await cli(["policy", "lint", "p.yml", "--max-warnings", "1"], dir)).code).toBe(0);
    expect((await cli(["policy", "lint", "p.yml", "--max-warnings", "0"], dir)).code).toBe(1);
  });

  it("writes json, github and sarif formats", async () => {
    const dir = workdir({
      "p.yml": "apiVersion: sandboxed/v1\nkind: Policy\nnetwork: { mode: block }\n",
    });
    const json = JSON.parse(
      (await cli(["policy", "lint", "p.yml", "--format", "json"], dir)).stdout,
    );
    expect(json).toMatchObject({ files: 1, errors: 1, warnings: 0 });
    expect(json.findings[0]).toMatchObject({
      file: "p.yml",
      line: 3,
      col: 18,
      rule: "schema",
      hint: "did you mean allowlist?",
    });
    const gh = (await cli(["policy", "lint", "p.yml", "--format", "github"], dir)).stdout;
    expect(gh).toMatch(
      /^::error file=p\.yml,line=3,col=18,endLine=3,endColumn=23,title=sandboxed schema::network\.mode must be one of/,
    );
    const sarif = JSON.parse(
      (await cli(["policy", "lint", "p.yml", "--format", "sarif"], dir)).stdout,
    );
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0].results[0]).toMatchObject({
      ruleId: "schema",
      level: "error",
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: "p.yml" },
            region: { startLine: 3, startColumn: 18 },
          },
        },
      ],
    });
  });

  it("exits 2 with a hint when nothing matches", async () => {
    const r = await cli(["policy", "lint", "nope/*.yml"], workdir({}));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no policy files match nope/*.yml [SBX_CLI_NO_FILES]\n  hint: ");
  });

  it("rejects an unknown format as a usage error", async () => {
    const r = await cli(["policy", "lint", "--format", "xml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Allowed choices are text, json, github, sarif");
  });
});

describe("sandboxed policy show", () => {
  it("prints the resolved policy as JSON with base units and origins", async () => {
    const r = await cli(["policy", "show", "policies/examples/sandbox-policy.yml", "--json"]);
    expect(r.code).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.resources).toEqual({
      cpus: 2,
      memoryBytes: 4 * 2 ** 30,
      diskBytes: 20 * 2 ** 30,
      pids: 4096,
      timeoutSeconds: 7200,
    });
    expect(p.network.allow[0]).toEqual({
      host: "github.com",
      ports: [443],
      source: "policies/presets/github-actions.yml:14:7",
    });
    expect(p.origins["resources.timeout"]).toBe("policies/examples/sandbox-policy.yml:9:71");
  });

  it("refuses an invalid policy with its findings", async () => {
    const dir = workdir({
      "p.yml": "apiVersion: sandboxed/v1\nkind: Policy\nresources: { memory: 4GB }\n",
    });
    const r = await cli(["policy", "show", "p.yml"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("p.yml:3:22 invalid-unit resources.memory");
    expect(r.stderr).toContain("[SBX_POLICY_INVALID]\n  hint: write 4GiB");
  });
});

describe("policies/policy.schema.json", () => {
  it("is the JSON Schema generated from runner/policy/schema.ts (run `npm run schema` when this fails)", () => {
    const committed = JSON.parse(readFileSync("policies/policy.schema.json", "utf8"));
    expect(committed).toEqual(policyJsonSchema());
  });
});

describe("sandboxed run, before any VM", () => {
  it("--list prints the jobs in order with their needs, and runs nothing", async () => {
    const r = await cli(["run", "-C", "examples/hello", "--list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      ".github/workflows/ci.yml (hello) · 2 jobs\n" +
        "   1  build   8 steps\n" +
        "   2  report  1 step     needs build\n",
    );
  });

  it("refuses an unknown job with the jobs there are", async () => {
    const r = await cli(["run", "-C", "examples/hello", "--list", "--job", "deploy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      ".github/workflows/ci.yml has no job 'deploy' [SBX_ENGINE_UNKNOWN_JOB]",
    );
    expect(r.stderr).toContain("hint: jobs in .github/workflows/ci.yml: build, report");
  });

  it("with several workflows and no terminal, lists them and stops", async () => {
    const dir = workdir({});
    mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
    for (const name of ["a.yml", "b.yml"])
      writeFileSync(path.join(dir, ".github", "workflows", name), "on: push\njobs: {}\n");
    const r = await cli(["run", "-C", dir, "--list"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("2 workflows in .github/workflows; say which:");
    expect(r.stderr).toMatch(/sandboxed run .*a\.yml\n.*sandboxed run .*b\.yml/);
  });
});
