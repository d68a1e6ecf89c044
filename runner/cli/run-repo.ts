/**
 * What `sandboxed run` learns from the repository it is run in: its root, workflows, the
 * github context facts git can tell (sha, ref, owner/repo from the origin remote), which files
 * a checkout would hold, and the dotenv-style secret and env files.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { createInterface } from "node:readline/promises";
import { SandboxedError } from "../errors/index.js";
import type { Io } from "./main.js";
import { packageRoot } from "./policy-files.js";

export interface RepoInfo {
  readonly root: string;
  /** `owner/name`: from a GitHub origin remote, else `local/<folder>`. */
  readonly repository: string;
  readonly sha: string;
  readonly ref: string;
  readonly actor: string;
  readonly isGit: boolean;
}

async function git(root: string, args: string[]): Promise<string | undefined> {
  const r = await execa("git", ["-C", root, ...args], { reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : undefined;
}

export async function repoRoot(cwd: string): Promise<string> {
  return (await git(cwd, ["rev-parse", "--show-toplevel"])) ?? path.resolve(cwd);
}

/** `git@github.com:o/r.git`, `https://github.com/o/r` and the like → `o/r`. */
export function repositoryFromRemote(url: string): string | undefined {
  const m = /github\.com[:/]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url.trim());
  return m ? `${m[1]}/${m[2]}` : undefined;
}

export async function repoInfo(root: string): Promise<RepoInfo> {
  const isGit = (await git(root, ["rev-parse", "--git-dir"])) !== undefined;
  const remote = isGit ? await git(root, ["remote", "get-url", "origin"]) : undefined;
  const folder = path.basename(root).replace(/[^A-Za-z0-9_.-]/g, "-") || "repo";
  const sha = (isGit ? await git(root, ["rev-parse", "HEAD"]) : undefined) ?? "0".repeat(40);
  const branch = isGit ? await git(root, ["symbolic-ref", "-q", "HEAD"]) : undefined;
  const actor = (isGit ? await git(root, ["config", "user.name"]) : undefined) ?? "sandboxed";
  return {
    root,
    repository: (remote && repositoryFromRemote(remote)) ?? `local/${folder}`,
    sha,
    ref: branch ?? "refs/heads/main",
    actor: actor.replace(/\s+/g, "-"),
    isGit,
  };
}

/** The workflow files of a repository, sorted. */
export function listWorkflows(root: string): string[] {
  const dir = path.join(root, ".github", "workflows");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * The files a checkout would hold: tracked plus untracked-but-not-ignored (so a local edit is
 * seen), never what .gitignore ignores. Undefined outside git: copy everything.
 */
export async function checkoutFiles(root: string): Promise<string[] | undefined> {
  const r = await execa(
    "git",
    ["-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    { reject: false, stripFinalNewline: false },
  );
  if (r.exitCode !== 0) return undefined;
  // A deleted-but-tracked file is still listed by --cached: keep what exists.
  return r.stdout
    .split("\0")
    .filter((f) => f !== "" && existsSync(path.join(root, f)))
    .sort();
}

/**
 * `NAME=value` lines (the format of act's --secret-file and of docker's --env-file): `#`
 * comments, blank lines, optional `export `, single or double quotes around the value.
 */
export function parseDotenv(file: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m)
      throw new SandboxedError("SBX_CLI_DOTENV", `${file}:${index + 1}: not NAME=value: ${raw}`, {
        hint: "write one NAME=value per line; names are letters, digits and _",
        source: { file, line: index + 1, col: 1 },
      });
    let value = m[2]!;
    const quoted = /^(['"])(.*)\1$/.exec(value);
    if (quoted) value = quoted[1] === '"' ? quoted[2]!.replace(/\\n/g, "\n") : quoted[2]!;
    out[m[1]!] = value;
  });
  return out;
}

export function readDotenv(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new SandboxedError("SBX_CLI_READ", `cannot read ${file}: ${(error as Error).message}`, {
      hint: "check the path and its permissions",
    });
  }
  return parseDotenv(file, text);
}

/** `k=v` pairs from repeated options (--matrix, --input). */
export function parsePairs(option: string, values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0)
      throw new SandboxedError("SBX_CLI_USAGE", `${option} ${v}: expected key=value`, {
        hint: `${option} node=20`,
      });
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

/** The workflow to run: the argument, or the only one there is; several: the list, and exit 2. */
export async function pickWorkflow(io: Io, root: string, arg: string | undefined): Promise<string> {
  if (arg) {
    const direct = path.resolve(io.cwd, arg);
    if (existsSync(direct)) return direct;
    const named = listWorkflows(root).find(
      (f) => path.basename(f) === arg || path.basename(f).replace(/\.ya?ml$/, "") === arg,
    );
    if (named) return named;
    throw new SandboxedError("SBX_CLI_NO_FILES", `no workflow ${arg}`, {
      hint: `workflows here: ${
        listWorkflows(root)
          .map((f) => path.relative(io.cwd, f))
          .join(", ") || "none in .github/workflows/"
      }`,
    });
  }
  const all = listWorkflows(root);
  if (all.length === 1) return all[0]!;
  if (all.length === 0)
    throw new SandboxedError(
      "SBX_CLI_NO_FILES",
      `no workflows in ${path.join(root, ".github", "workflows")}`,
      {
        hint: `add one, or try the sample: sandboxed run -C ${path.relative(io.cwd, path.join(packageRoot(), "examples", "hello")) || "."}`,
      },
    );
  // On a terminal, ask; elsewhere (scripts, CI) list the choices and stop.
  if (io.isTty && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      all.forEach((f, i) => io.stderr(`  ${i + 1}) ${path.relative(root, f)}\n`));
      const answer = await rl.question(`Which workflow? [1-${all.length}] `);
      const picked = all[Number(answer.trim()) - 1];
      if (picked) return picked;
    } finally {
      rl.close();
    }
  }
  throw new SandboxedError(
    "SBX_CLI_WHICH_WORKFLOW",
    `${all.length} workflows in .github/workflows; say which:\n${all.map((f) => `  sandboxed run ${path.relative(io.cwd, f)}`).join("\n")}`,
    { hint: "name the workflow file (or its base name) as the first argument" },
  );
}

export function pickPolicy(io: Io, root: string, flag: string | undefined): string {
  if (flag) return path.resolve(io.cwd, flag);
  const repoPolicy = path.join(root, ".github", "sandbox-policy.yml");
  return existsSync(repoPolicy) ? repoPolicy : path.join(packageRoot(), "policies", "default.yml");
}

export function readEventFile(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new SandboxedError("SBX_CLI_EVENT_FILE", `${file}: ${(error as Error).message}`, {
      hint: "give a webhook payload as JSON, e.g. one copied from a delivery in the repository's webhook settings",
    });
  }
}

/**
 * Without --event-file, a payload with the fields workflows read most (the ref, the commit, the
 * repository; a pull request's head and base; workflow_dispatch inputs), from the checkout.
 */
export function defaultPayload(
  event: string,
  info: { repository: string; sha: string; ref: string; actor: string },
  inputs: Record<string, string>,
): Record<string, unknown> {
  const [owner = "", name = ""] = info.repository.split("/");
  const repository = {
    full_name: info.repository,
    name,
    owner: { login: owner },
    default_branch: "main",
  };
  const sender = { login: info.actor };
  const branch = info.ref.replace(/^refs\/heads\//, "");
  switch (event) {
    case "workflow_dispatch":
      return { inputs, ref: info.ref, repository, sender };
    case "pull_request":
    case "pull_request_target":
      return {
        action: "opened",
        number: 1,
        pull_request: {
          number: 1,
          head: { ref: branch, sha: info.sha },
          base: { ref: repository.default_branch },
        },
        repository,
        sender,
      };
    default:
      return { ref: info.ref, after: info.sha, head_commit: { id: info.sha }, repository, sender };
  }
}
