/**
 * Packs the STAND-IN runner (not the official GitHub Actions runner; see
 * STANDIN-NOT-THE-OFFICIAL-RUNNER) as a tarball laid out like actions-runner-linux-x64-*.tar.gz:
 * `./run.sh` and `./config.sh` at the root, helpers under `./bin/`. Deterministic, so its sha256
 * is stable: names sorted, mtime 0, owner and group 0, fixed modes, `gzip -n` (no name or time).
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const RUNNER_STANDIN_VERSION = "0.0.0-standin";

/** Files of the tarball (relative to this folder) and their modes. */
const FILES: readonly (readonly [string, number])[] = [
  ["STANDIN-NOT-THE-OFFICIAL-RUNNER", 0o644],
  ["run.sh", 0o755],
  ["config.sh", 0o755],
  ["bin/jitconfig.sh", 0o644],
  ["bin/protocol.sh", 0o644],
  ["bin/job.sh", 0o644],
];

const SOURCE_DIR = path.dirname(fileURLToPath(import.meta.url));

/** The folder holding run.sh, to run the stand-in in place (tests on the host). */
export const RUNNER_STANDIN_DIR = SOURCE_DIR;

export async function buildRunnerStandin(
  outDir: string,
): Promise<{ file: string; sha256: string }> {
  const stage = await mkdtemp(path.join(tmpdir(), "runner-standin-"));
  try {
    await chmod(stage, 0o755);
    for (const [name, mode] of FILES) {
      const to = path.join(stage, name);
      await mkdir(path.dirname(to), { recursive: true, mode: 0o755 });
      await chmod(path.dirname(to), 0o755);
      await copyFile(path.join(SOURCE_DIR, name), to);
      await chmod(to, mode);
    }
    const tar = await execa(
      "tar",
      [
        "--sort=name",
        "--mtime=@0",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--format=gnu",
        "-C",
        stage,
        "-cf",
        "-",
        ".",
      ],
      { encoding: "buffer" },
    );
    const gz = await execa("gzip", ["-n", "-9"], { input: tar.stdout, encoding: "buffer" });
    const bytes = Buffer.from(gz.stdout);
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, `actions-runner-linux-x64-${RUNNER_STANDIN_VERSION}.tar.gz`);
    await writeFile(file, bytes);
    return { file, sha256: createHash("sha256").update(bytes).digest("hex") };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
