// What `sandboxed run` takes from the repository: which files a checkout holds (L23), the
// dotenv-style secret and env files, key=value options, GitHub remotes, and host capacity (L24).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostCapacity } from "../../runner/cli/run-command.js";
import {
  checkoutFiles,
  defaultPayload,
  parseDotenv,
  parsePairs,
  repositoryFromRemote,
} from "../../runner/cli/run-repo.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("checkoutFiles (L23)", () => {
  it("lists tracked and untracked-but-not-ignored files, never ignored ones", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-repo-"));
    dirs.push(dir);
    const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args]);
    git("init", "-q");
    writeFileSync(path.join(dir, ".gitignore"), "node_modules/\n*.log\n.secrets\n");
    writeFileSync(path.join(dir, "tracked.txt"), "t");
    mkdirSync(path.join(dir, "node_modules", "x"), { recursive: true });
    writeFileSync(path.join(dir, "node_modules", "x", "index.js"), "");
    writeFileSync(path.join(dir, "debug.log"), "");
    writeFileSync(path.join(dir, ".secrets"), "TOKEN=x");
    git("add", ".gitignore", "tracked.txt");
    git("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "init");
    writeFileSync(path.join(dir, "new.txt"), "untracked, not ignored");
    expect(await checkoutFiles(dir)).toEqual([".gitignore", "new.txt", "tracked.txt"]);
  });

  it("is undefined outside git: the whole folder is copied", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-nogit-"));
    dirs.push(dir);
    expect(await checkoutFiles(dir)).toBeUndefined();
  });
});

describe("parseDotenv", () => {
  it.each([
    { name: "plain", text: "A=1\nB = two\n", expect: { A: "1", B: "two" } },
    { name: "comments and blanks", text: "# c\n\nA=1\n", expect: { A: "1" } },
    { name: "export prefix", text: "export A=1", expect: { A: "1" } },
    { name: "double quotes with \\n", text: 'A="x\\ny"', expect: { A: "x\ny" } },
    { name: "single quotes kept literal", text: "A='x\\ny'", expect: { A: "x\\ny" } },
    { name: "= in the value", text: "A=b=c", expect: { A: "b=c" } },
  ])("$name", ({ text, expect: want }) => {
    expect(parseDotenv(".secrets", text)).toEqual(want);
  });

  it("names the file and line of a bad line, with the fix", () => {
    expect(() => parseDotenv(".secrets", "A=1\nnot a pair\n")).toThrow(
      expect.objectContaining({
        code: "SBX_CLI_DOTENV",
        message: ".secrets:2: not NAME=value: not a pair",
        hint: "write one NAME=value per line; names are letters, digits and _",
      }),
    );
  });
});

describe("parsePairs", () => {
  it("splits on the first =", () => {
    expect(parsePairs("--matrix", ["node=20", "os=a=b"])).toEqual({ node: "20", os: "a=b" });
  });
  it("refuses a value without a key", () => {
    expect(() => parsePairs("--input", ["=x"])).toThrow(
      expect.objectContaining({ code: "SBX_CLI_USAGE", hint: "--input node=20" }),
    );
  });
});

describe("repositoryFromRemote", () => {
  it.each([
    { name: "ssh", url: "git@github.com:octo/hello.git", expect: "octo/hello" },
    { name: "https", url: "https://github.com/octo/hello", expect: "octo/hello" },
    { name: "https .git/", url: "https://github.com/octo/hello.git", expect: "octo/hello" },
    { name: "not GitHub", url: "https://gitlab.com/octo/hello", expect: undefined },
  ])("$name", ({ url, expect: want }) => {
    expect(repositoryFromRemote(url)).toBe(want);
  });
});

describe("defaultPayload", () => {
  // https://docs.github.com/en/webhooks/webhook-events-and-payloads
  const info = {
    repository: "octo/hello",
    sha: "a".repeat(40),
    ref: "refs/heads/dev",
    actor: "me",
  };
  it("push: ref, after, head_commit, repository", () => {
    expect(defaultPayload("push", info, {})).toMatchObject({
      ref: "refs/heads/dev",
      after: info.sha,
      repository: { full_name: "octo/hello", owner: { login: "octo" } },
    });
  });
  it("pull_request: head and base", () => {
    expect(defaultPayload("pull_request", info, {})).toMatchObject({
      pull_request: { head: { ref: "dev", sha: info.sha }, base: { ref: "main" } },
    });
  });
  it("workflow_dispatch: the inputs", () => {
    expect(defaultPayload("workflow_dispatch", info, { level: "3" })).toMatchObject({
      inputs: { level: "3" },
    });
  });
});

describe("hostCapacity (L24)", () => {
  const GiB = 2 ** 30;
  it.each([
    { name: "cpu-bound", cpus: 2, mem: 4, host: { cpus: 8, mem: 64 }, expect: 4 },
    { name: "memory-bound", cpus: 1, mem: 8, host: { cpus: 16, mem: 24 }, expect: 2 },
    { name: "at least one", cpus: 4, mem: 4, host: { cpus: 2, mem: 24 }, expect: 1 },
    {
      name: "this machine's shape, default policy",
      cpus: 2,
      mem: 4,
      host: { cpus: 2, mem: 24 },
      expect: 1,
    },
  ])("$name", ({ cpus, mem, host, expect: want }) => {
    expect(
      hostCapacity(
        { cpus, memoryBytes: mem * GiB },
        { cpus: host.cpus, memoryBytes: host.mem * GiB },
      ),
    ).toBe(want);
  });
});
