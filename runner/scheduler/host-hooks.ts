/**
 * Host lifecycle hooks (hooks/host/README.md): executables ops drop into the config's hooksDir.
 * `before-create` runs before a sandbox is made and a non-zero exit (or 30 s without one) refuses
 * the job; `after-destroy` runs after it is gone, and its failure is only logged. Each gets only
 * PATH and the job's facts as SANDBOXED_* variables: nothing of the service's environment, and
 * never a secret.
 */
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";

export type HookPoint = "before-create" | "after-destroy";

export interface HookResult {
  readonly hook: string;
  readonly ok: boolean;
  readonly detail: string;
}

const HOOK_TIMEOUT_MS = 30_000;
const HOOK_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function hooksFor(dir: string | undefined, point: HookPoint): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name === point)
    .map((name) => path.join(dir, name))
    .filter((file) => {
      try {
        accessSync(file, constants.X_OK);
        return statSync(file).isFile();
      } catch {
        return false;
      }
    });
}

export async function runHooks(
  dir: string | undefined,
  point: HookPoint,
  env: Readonly<Record<string, string>>,
): Promise<HookResult[]> {
  const results: HookResult[] = [];
  for (const hook of hooksFor(dir, point)) {
    const r = await execa(hook, [], {
      env: { PATH: HOOK_PATH, ...env, SANDBOXED_HOOK: point },
      extendEnv: false,
      cwd: path.dirname(hook),
      reject: false,
      timeout: HOOK_TIMEOUT_MS,
      stdin: "ignore",
      all: true,
    });
    const out = String(r.all ?? "")
      .trim()
      .split("\n")
      .slice(-5)
      .join(" | ");
    const ok = r.exitCode === 0;
    results.push({
      hook,
      ok,
      detail: ok
        ? out
        : `${r.timedOut ? "timed out" : `exited ${r.exitCode}`}${out ? `: ${out}` : ""}`,
    });
    if (!ok && point === "before-create") break;
  }
  return results;
}
