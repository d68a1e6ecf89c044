/**
 * Finding the files to lint, the shipped presets, and reading them: the I/O the policy area
 * leaves to its caller.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { glob } from "tinyglobby";
import { SandboxedError } from "../errors/index.js";
import type { LoadOptions } from "../policy/index.js";

/** The folder holding package.json: two levels up from build/runner/cli or dist/action. */
export function packageRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && existsSync(path.join(dir, "policies", "presets"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) {
      throw new SandboxedError(
        "SBX_CLI_INSTALL",
        `cannot find the policies/ folder above ${from}`,
        {
          hint: "reinstall sandboxed: the package ships policies/presets",
        },
      );
    }
    dir = up;
  }
}

export function loadOptions(root = packageRoot()): LoadOptions {
  const presetDir = path.join(root, "policies", "presets");
  const presetNames = readdirSync(presetDir)
    .filter((f) => f.endsWith(".yml"))
    .map((f) => f.slice(0, -4))
    .sort();
  return { readFile: readTextOrUndefined, presetDir, presetNames };
}

export function readTextOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    if ((error as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw new SandboxedError("SBX_CLI_READ", `cannot read ${file}: ${(error as Error).message}`, {
      hint: "check the file's permissions",
      cause: error,
    });
  }
}

const YAML_GLOB = "**/*.{yml,yaml}";

/**
 * Expand paths: a file as is, a folder to every YAML file below it, anything else as a glob.
 * A pattern that matches nothing is an error: a typo must not pass as "no problems".
 */
export async function expandPaths(patterns: readonly string[], cwd: string): Promise<string[]> {
  const out = new Set<string>();
  for (const pattern of patterns) {
    const abs = path.resolve(cwd, pattern);
    if (existsSync(abs) && statSync(abs).isFile()) {
      out.add(abs);
      continue;
    }
    const matches =
      existsSync(abs) && statSync(abs).isDirectory()
        ? await glob(YAML_GLOB, { cwd: abs, absolute: true, ignore: ["**/node_modules/**"] })
        : await glob(pattern, { cwd, absolute: true, ignore: ["**/node_modules/**"] });
    if (matches.length === 0) {
      throw new SandboxedError("SBX_CLI_NO_FILES", `no policy files match ${pattern}`, {
        hint: "give a file, a folder or a glob such as .github/sandbox-policy.yml or 'policies/**/*.yml'",
      });
    }
    for (const m of matches) out.add(path.resolve(m));
  }
  return [...out].sort();
}

/** With no paths: the repository's own policy. */
export const DEFAULT_POLICY_PATH = ".github/sandbox-policy.yml";
