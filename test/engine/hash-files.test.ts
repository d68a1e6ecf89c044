// hashFiles on the host (research §4.6):
// https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#hashfiles
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  openSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type * as FsModule from "node:fs";
import { hashFilesOnHost } from "../../runner/engine/hash-files.js";

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof FsModule>();
  return { ...fs, openSync: vi.fn(fs.openSync) };
});

let root: string;
let outside: string;

const FILES: Record<string, string> = {
  "package-lock.json": "root lock",
  "a/x.txt": "x",
  "a/b/y.txt": "y",
  "a/b/package-lock.json": "nested lock",
  "b.txt": "b",
  ".hidden/z.txt": "z",
};

/** GitHub's algorithm written out again: SHA-256 of the files' SHA-256 digests, in path order. */
function expected(files: string[]): string {
  if (files.length === 0) return "";
  const outer = createHash("sha256");
  for (const f of [...files].sort()) {
    outer.update(
      createHash("sha256")
        .update(readFileSync(path.join(root, f)))
        .digest(),
    );
  }
  return outer.digest("hex");
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "sbx-hash-"));
  outside = mkdtempSync(path.join(tmpdir(), "sbx-outside-"));
  for (const [file, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
  writeFileSync(path.join(outside, "secret.txt"), "host secret");
  symlinkSync(path.join(outside, "secret.txt"), path.join(root, "a/link.txt"));
  symlinkSync(outside, path.join(root, "linked-dir"));
  execFileSync("mkfifo", [path.join(root, "a/pipe.txt")]);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe("hashFilesOnHost", () => {
  it.each<{ name: string; patterns: string[]; files: string[] }>([
    { name: "one file", patterns: ["package-lock.json"], files: ["package-lock.json"] },
    {
      name: "docs example **/package-lock.json matches at any depth",
      patterns: ["**/package-lock.json"],
      files: ["package-lock.json", "a/b/package-lock.json"],
    },
    {
      name: "several arguments",
      patterns: ["package-lock.json", "b.txt"],
      files: ["package-lock.json", "b.txt"],
    },
    {
      name: "several lines in one argument, with a comment",
      patterns: ["# lock files\npackage-lock.json\n  b.txt  \n"],
      files: ["package-lock.json", "b.txt"],
    },
    {
      name: "docs example: a ! pattern excludes",
      patterns: ["**/*.txt", "!a/b/**"],
      files: ["a/x.txt", "b.txt", ".hidden/z.txt"],
    },
    {
      name: "patterns apply in order: a later pattern includes again",
      patterns: ["**/*.txt", "!a/**", "a/x.txt"],
      files: ["a/x.txt", "b.txt", ".hidden/z.txt"],
    },
    { name: "!! includes", patterns: ["!!b.txt"], files: ["b.txt"] },
    {
      name: "a directory means the files under it",
      patterns: ["a/b"],
      files: ["a/b/y.txt", "a/b/package-lock.json"],
    },
    { name: "dot folders match", patterns: [".hidden/*"], files: [".hidden/z.txt"] },
    { name: "an absolute path inside the workspace", patterns: ["<root>/b.txt"], files: ["b.txt"] },
    { name: "no match is ''", patterns: ["*.nothing"], files: [] },
    { name: "only comments is ''", patterns: ["# nothing"], files: [] },
    // The workspace is job-controlled and this runs on the host: nothing outside it is read.
    { name: "a symlink to a file outside is not hashed", patterns: ["a/link.txt"], files: [] },
    { name: "a symlinked folder is not walked", patterns: ["linked-dir/**"], files: [] },
    { name: "a .. pattern matches nothing", patterns: ["../*/secret.txt"], files: [] },
    {
      name: "an absolute path elsewhere matches nothing",
      patterns: ["<outside>/secret.txt"],
      files: [],
    },
    { name: "a FIFO is skipped, not waited on", patterns: ["a/pipe.txt"], files: [] },
  ])("$name", ({ patterns, files }) => {
    const resolved = patterns.map((p) => p.replace("<root>", root).replace("<outside>", outside));
    expect(hashFilesOnHost(root, resolved)).toBe(expected(files));
  });

  it("changes when a file's content changes", () => {
    const before = hashFilesOnHost(root, ["b.txt"]);
    writeFileSync(path.join(root, "b.txt"), "b2");
    expect(hashFilesOnHost(root, ["b.txt"])).not.toBe(before);
    writeFileSync(path.join(root, "b.txt"), FILES["b.txt"]!);
    expect(hashFilesOnHost(root, ["b.txt"])).toBe(before);
  });

  it("counts only the files copied into the sandbox, when told which", () => {
    // An ignored file on the host is not in the job's workspace, so it must not change the key.
    expect(hashFilesOnHost(root, ["b.txt", "a/x.txt"], { only: new Set(["b.txt"]) })).toBe(
      expected(["b.txt"]),
    );
  });

  it("reads an absolute pattern under GITHUB_WORKSPACE as the host folder", () => {
    // https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#hashfiles
    expect(
      hashFilesOnHost(root, ["/sandbox/work/r/r/b.txt"], { guestRoot: "/sandbox/work/r/r" }),
    ).toBe(expected(["b.txt"]));
  });

  it("a file it cannot open is SBX_ENGINE_HASH_FILES", () => {
    // The runner is often root, which reads any file: fail the open itself instead of chmod 000.
    vi.mocked(openSync).mockImplementationOnce(() => {
      throw Object.assign(new Error("EACCES: permission denied, open 'b.txt'"), { code: "EACCES" });
    });
    expect(() => hashFilesOnHost(root, ["b.txt"])).toThrow(
      expect.objectContaining({
        code: "SBX_ENGINE_HASH_FILES",
        message: `hashFiles cannot read ${path.join(root, "b.txt")}: Error: EACCES: permission denied, open 'b.txt'`,
        hint: "make the file readable by the runner, or exclude it with a '!pattern' argument",
      }),
    );
  });
});
