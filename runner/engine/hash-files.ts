/**
 * `hashFiles(…)` on the host, after the runner's hashFiles.ts (research §4.6,
 * https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#hashfiles):
 * patterns are globs relative to the workspace, one per argument or per line of an argument, `#`
 * lines are comments, a leading `!` removes what earlier patterns matched; a directory matches the
 * files under it; only files count. Each file is SHA-256'd and the binary digests, fed in order into
 * one outer SHA-256, give the hex result; no match gives ''.
 *
 * Where we differ, on purpose:
 * - Order: GitHub feeds files in directory-traversal order, which the file system decides; we sort
 *   the paths, so the key is the same on every host. A key from here therefore need not equal
 *   GitHub's for several files; it only has to be stable, and it is.
 * - Symbolic links are never followed or hashed, and patterns reaching outside the workspace
 *   (absolute elsewhere, or with `..`) match nothing: the workspace is job-controlled, and this
 *   runs on the host.
 * This is the engine's only I/O, kept out of the pure evaluator (STYLE H3).
 */
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { globSync } from "tinyglobby";
import { SandboxedError } from "../errors/index.js";

const CHUNK = 1 << 20;

export interface HashFilesOptions {
  /** Only these files count (the files copied into the sandbox: a checkout's, not ignored ones). */
  readonly only?: ReadonlySet<string>;
  /** GITHUB_WORKSPACE as the job sees it: absolute patterns under it are taken from `root`. */
  readonly guestRoot?: string;
}

export function hashFilesOnHost(
  root: string,
  patterns: readonly string[],
  options: HashFilesOptions = {},
): string {
  const matched = new Set<string>();
  for (const line of patterns.flatMap((p) => p.split("\n"))) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    // As @actions/glob: each leading `!` flips the pattern between include and exclude.
    const bangs = /^!*/.exec(trimmed)![0].length;
    let given = trimmed.slice(bangs);
    const guest = options.guestRoot === undefined ? undefined : `${options.guestRoot}/`;
    if (guest && given.startsWith(guest)) given = given.slice(guest.length);
    const pattern = insideRoot(root, given);
    if (pattern === undefined) continue;
    const files = globSync([pattern], {
      cwd: root,
      onlyFiles: true,
      dot: true,
      followSymbolicLinks: false,
      expandDirectories: true,
    });
    for (const file of files) {
      if (options.only && !options.only.has(file)) continue;
      if (bangs % 2 === 1) matched.delete(file);
      else matched.add(file);
    }
  }
  const outer = createHash("sha256");
  let hashed = 0;
  for (const file of [...matched].sort()) {
    const digest = fileDigest(path.join(root, file));
    if (digest === undefined) continue;
    outer.update(digest);
    hashed += 1;
  }
  return hashed === 0 ? "" : outer.digest("hex");
}

/** The pattern relative to root, or undefined when it could reach outside it. */
function insideRoot(root: string, pattern: string): string | undefined {
  let relative = pattern;
  if (path.isAbsolute(pattern)) {
    const base = path.resolve(root) + path.sep;
    if (!pattern.startsWith(base)) return undefined;
    relative = pattern.slice(base.length);
  }
  if (relative.split(/[\\/]/).includes("..")) return undefined;
  return relative === "" ? undefined : relative;
}

/** The file's SHA-256, or undefined when it is not a regular file (a FIFO, a socket …). */
function fileDigest(file: string): Buffer | undefined {
  const hash = createHash("sha256");
  let fd: number | undefined;
  try {
    // O_NOFOLLOW: a file swapped for a link after the glob is refused, not followed.
    // O_NONBLOCK: opening a FIFO the job left in the workspace must not hang the runner.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    if (!fstatSync(fd).isFile()) return undefined;
    const buffer = Buffer.alloc(CHUNK);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
      hash.update(buffer.subarray(0, n));
    }
    return hash.digest();
  } catch (error) {
    throw new SandboxedError(
      "SBX_ENGINE_HASH_FILES",
      `hashFiles cannot read ${file}: ${String(error)}`,
      {
        hint: "make the file readable by the runner, or exclude it with a '!pattern' argument",
        cause: error,
      },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
