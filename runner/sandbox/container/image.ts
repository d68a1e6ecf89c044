/**
 * A container image made from a guest template's root file system (`docker import`), so a job
 * sees the same tools on both backends and no registry is needed, plus the extras a container
 * needs that a VM does not (buildExtras). The image is tagged with the template's content hash and the
 * extras' hash, and made once per daemon; the template's image is mounted read-only inside a
 * private mount namespace (`unshare --mount`), so a crash mid-import leaves no mount.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { SandboxedError } from "../../errors/index.js";
import { statusOf } from "./docker.js";
import { buildStatxCompat, STATX_COMPAT_C, STATX_COMPAT_PATH } from "./statx-compat.js";

/** What the container backend needs of a guest template (sandbox/vm's VmTemplate has it). */
export interface ImageSource {
  readonly name: string;
  readonly hash: string;
  /** The template's ext4 root image. */
  readonly rootImage: string;
  readonly user: { readonly name: string; readonly uid: number; readonly gid: number };
}

/**
 * apt runs dpkg on a pseudo-terminal it makes the controlling one (TIOCSCTTY), which gVisor
 * refuses under the sudo broker: "E: Setting TIOCSCTTY ... failed", though the install works.
 * Without the pty apt prints the same lines, minus a progress bar.
 */
const APT_NO_PTY_PATH = "etc/apt/apt.conf.d/90sandboxed-container";
const APT_NO_PTY =
  '// sandboxed: dpkg without a pty in containers (runner/sandbox/container/image.ts)\nDpkg::Use-Pty "false";\n';

/**
 * Part of the image tag: the statx compatibility library (decision 0011) and the apt setting.
 * An image made with other extras is another image, imported anew.
 */
export const IMAGE_EXTRAS_ID = createHash("sha256")
  .update(STATX_COMPAT_C)
  .update(STATX_COMPAT_PATH)
  .update(APT_NO_PTY)
  .digest("hex")
  .slice(0, 8);

/** Docker's repository names allow [a-z0-9._-]: `default+runner` becomes `default-runner`. */
export function imageTag(source: Pick<ImageSource, "name" | "hash">): string {
  return `sandboxed/${source.name.replace(/[^a-z0-9._-]/g, "-")}:${source.hash}-${IMAGE_EXTRAS_ID}`;
}

/** Writes the extras into `dir` as the image lays them out; returns the tar members to add. */
async function buildExtras(dir: string): Promise<string[]> {
  const added = await buildStatxCompat(dir);
  mkdirSync(path.join(dir, path.dirname(APT_NO_PTY_PATH)), { recursive: true, mode: 0o755 });
  writeFileSync(path.join(dir, APT_NO_PTY_PATH), APT_NO_PTY, { mode: 0o644 });
  return [...added, APT_NO_PTY_PATH];
}

/** Kernel, modules and boot files are the VM's business; a container shares the host kernel. */
const EXCLUDE = ["./boot", "./lib/modules", "./usr/lib/modules", "./lost+found"];

export async function ensureImage(
  docker: Docker,
  source: ImageSource,
  onProgress: (line: string) => void = () => undefined,
): Promise<{ tag: string; imported: boolean; seconds: number }> {
  const tag = imageTag(source);
  try {
    await docker.getImage(tag).inspect();
    return { tag, imported: false, seconds: 0 };
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  const started = Date.now();
  onProgress(`importing template ${source.name} into the Docker daemon as ${tag}`);
  const work = mkdtempSync(path.join(tmpdir(), "sandboxed-image-"));
  try {
    const [root, extra] = [path.join(work, "root"), path.join(work, "extra")];
    mkdirSync(root);
    const added = await buildExtras(extra);
    await importRoot(docker, source, tag, root, [
      ...EXCLUDE.map((e) => `--exclude=${e}`),
      "-C",
      root,
      ".",
      "-C",
      extra,
      ...added,
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  onProgress(`imported ${tag} in ${seconds.toFixed(1)}s`);
  return { tag, imported: true, seconds };
}

/** The template's root mounted at `mountPoint`, tarred with `tarArgs`, into `docker import`. */
async function importRoot(
  docker: Docker,
  source: ImageSource,
  tag: string,
  mountPoint: string,
  tarArgs: readonly string[],
): Promise<void> {
  const script =
    'mount -o loop,ro,nodev,nosuid "$1" "$2" && shift 2 && tar --numeric-owner --xattrs -c "$@"';
  const tar = execa(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      source.rootImage,
      mountPoint,
      ...tarArgs,
    ],
    { stdout: "pipe", stderr: "pipe", reject: false, buffer: { stdout: false } },
  );
  try {
    const stream = await docker.importImage(tar.stdout!, {
      repo: tag.split(":")[0],
      tag: tag.split(":")[1],
    } as object);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, output: unknown[]) => {
        const failed = output?.find((o) => (o as { error?: string }).error) as
          { error: string } | undefined;
        if (error || failed) reject(error ?? new Error(failed!.error));
        else resolve();
      }),
    );
  } catch (error) {
    tar.kill();
    throw new SandboxedError(
      "SBX_CONTAINER_IMAGE",
      `importing template ${source.name} into Docker failed: ${(error as Error).message}`,
      { hint: "check the daemon's log and free space under its data-root", cause: error },
    );
  }
  const result = await tar;
  if (result.exitCode !== 0) {
    await docker
      .getImage(tag)
      .remove({ force: true })
      .catch(() => undefined);
    throw new SandboxedError(
      "SBX_CONTAINER_IMAGE",
      `reading template ${source.name}'s root image failed: ${String(result.stderr).trim().split("\n").slice(-3).join(" | ")}`,
      { hint: "rebuild the template: sandboxed template build " + source.name + " --force" },
    );
  }
}
