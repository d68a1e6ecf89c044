// The container image's statx compatibility library (decision 0011): what the import adds to a
// template's root, built with the host's compiler; and the error when there is none.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SandboxedError } from "../../runner/errors/index.js";
import { STATX_COMPAT_PATH } from "../../runner/sandbox/container/index.js";
import { buildStatxCompat } from "../../runner/sandbox/container/statx-compat.js";

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(path.join(tmpdir(), "sbx-statx-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("buildStatxCompat", () => {
  it("lays out ld.so.preload and a shared library that defines statx, readable by every user", async () => {
    const dir = scratch();
    const added = await buildStatxCompat(dir);
    expect(added).toEqual(["etc/ld.so.preload", "opt/sandboxed/lib"]);
    expect(readFileSync(path.join(dir, "etc/ld.so.preload"), "utf8")).toBe(
      `${STATX_COMPAT_PATH}\n`,
    );
    const lib = path.join(dir, STATX_COMPAT_PATH);
    expect(statSync(lib).mode & 0o777).toBe(0o644);
    expect(statSync(path.dirname(lib)).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(dir, "etc/ld.so.preload")).mode & 0o777).toBe(0o644);
    const symbols = execFileSync("nm", ["-D", "--defined-only", lib], { encoding: "utf8" });
    expect(symbols).toMatch(/ T statx$/m);
    // Only the library's own folder: nothing else of the image's /opt/sandboxed is replaced.
    expect(execFileSync("ls", [path.join(dir, "opt/sandboxed/lib")], { encoding: "utf8" })).toBe(
      "libstatx-compat.so\n",
    );
  });

  it("without a compiler, fails with SBX_CONTAINER_IMAGE and the packages to install", async () => {
    const error = await buildStatxCompat(scratch(), "/nonexistent/cc").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxedError);
    expect(error).toMatchObject({
      code: "SBX_CONTAINER_IMAGE",
      message: expect.stringContaining("no C compiler (/nonexistent/cc)") as string,
      hint: expect.stringContaining("apt-get install gcc libc6-dev") as string,
    });
  });
});
