/**
 * A compatibility library for gVisor releases whose `statx` rejects `AT_NO_AUTOMOUNT` with
 * EINVAL (Debian 12's runsc, 2022-12): coreutils passes that flag, so `ls -l`, `stat` and
 * everything built on them failed in container jobs. The library wraps glibc's `statx`; only when
 * a call with `AT_NO_AUTOMOUNT` fails with EINVAL does it ask again without the flag, which
 * changes nothing in a container (there are no automount points to trigger). Every other call,
 * and every call on a kernel or runtime that accepts the flag, is the plain system call.
 *
 * It is compiled on the host when a template is imported into Docker (decision 0011) and listed
 * in the image's /etc/ld.so.preload, so every dynamically linked program in the container gets
 * it. The VM backend does not need it: its guests run a real Linux kernel.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { SandboxedError } from "../../errors/index.js";

export const STATX_COMPAT_C = `/* sandboxed: see runner/sandbox/container/statx-compat.ts in the sandboxed sources. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int statx(int dirfd, const char *path, int flags, unsigned int mask, struct statx *buf) {
  long r = syscall(SYS_statx, dirfd, path, flags, mask, buf);
  if (r == -1 && errno == EINVAL && (flags & AT_NO_AUTOMOUNT) != 0)
    r = syscall(SYS_statx, dirfd, path, flags & ~AT_NO_AUTOMOUNT, mask, buf);
  return (int)r;
}
`;

/** Where the library lives in the image (next to the agent). */
export const STATX_COMPAT_PATH = "/opt/sandboxed/lib/libstatx-compat.so";

/**
 * Compiles the library into `dir` with the host's C compiler and writes the image's
 * /etc/ld.so.preload beside it, as the image lays them out. Returns the paths, relative to `dir`,
 * that the import adds to the template's root.
 */
export async function buildStatxCompat(dir: string, cc = "cc"): Promise<string[]> {
  const lib = path.join(dir, STATX_COMPAT_PATH);
  const source = path.join(dir, "statx-compat.c");
  mkdirSync(path.dirname(lib), { recursive: true });
  mkdirSync(path.join(dir, "etc"), { recursive: true });
  writeFileSync(source, STATX_COMPAT_C);
  const built = await execa(
    cc,
    ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", "-o", lib, source],
    { reject: false, stdin: "ignore" },
  );
  if (built.failed) {
    const why =
      built.exitCode === undefined
        ? `no C compiler (${cc}) on this host`
        : String(built.stderr).trim();
    throw new SandboxedError(
      "SBX_CONTAINER_IMAGE",
      `building the statx compatibility library for the container image failed: ${why}`,
      { hint: "apt-get install gcc libc6-dev (scripts/dockerd.sh installs them)" },
    );
  }
  const preload = path.join(dir, "etc/ld.so.preload");
  writeFileSync(preload, `${STATX_COMPAT_PATH}\n`);
  // Modes as the image needs them, whatever the host's umask.
  chmodSync(path.dirname(lib), 0o755);
  chmodSync(lib, 0o644);
  chmodSync(preload, 0o644);
  return ["etc/ld.so.preload", path.dirname(STATX_COMPAT_PATH).slice(1)];
}
