/**
 * TEST-ONLY. Makes sure sandboxed's own Docker daemon runs, for the container backend's tests
 * (issue 7): `beforeAll(async () => { socket = await ensureDockerd(); }, 120_000)`.
 *
 * scripts/dockerd.sh does the work: it installs docker.io and runsc when missing, writes the
 * daemon's config and starts dockerd on its own socket, or returns at once when the daemon already
 * answers. It takes a lock, so test files running in parallel can all call this.
 */
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const DEFAULT_TEST_DOCKER_SOCKET = "/run/sandboxed/docker.sock";

const SCRIPT = fileURLToPath(new URL("../../scripts/dockerd.sh", import.meta.url));

/** Starts the daemon when needed; resolves to its socket (SANDBOXED_DOCKER_SOCKET, as the script). */
export async function ensureDockerd(): Promise<string> {
  const r = await execa("sh", [SCRIPT], { reject: false, stdin: "ignore", all: true });
  if (r.exitCode !== 0) {
    throw new Error(`sh ${SCRIPT} failed (exit ${r.exitCode ?? r.signal}):\n${r.all}`);
  }
  return process.env.SANDBOXED_DOCKER_SOCKET ?? DEFAULT_TEST_DOCKER_SOCKET;
}
