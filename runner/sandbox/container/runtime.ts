/**
 * Which OCI runtime a container sandbox gets: a pure decision whose default is deny. `auto`
 * takes sysbox-runc, else runsc; runc (no barrier beyond namespaces and seccomp) only when the
 * policy names it, and then the report says "not hardened".
 */
import { SandboxedError } from "../../errors/index.js";
import type { ResolvedPolicy } from "../../policy/index.js";

export type Runtime = "sysbox-runc" | "runsc" | "runc";
export type RequestedRuntime = ResolvedPolicy["isolation"]["runtime"];

export interface RuntimeChoice {
  readonly runtime: Runtime;
  readonly hardened: boolean;
}

const HARDENED: readonly Runtime[] = ["sysbox-runc", "runsc"];

export function chooseRuntime(
  requested: RequestedRuntime,
  available: readonly string[],
  daemon: string,
): RuntimeChoice {
  if (requested === "auto") {
    const found = HARDENED.find((r) => available.includes(r));
    if (found) return { runtime: found, hardened: true };
    throw new SandboxedError(
      "SBX_CONTAINER_RUNTIME",
      `no hardened container runtime on the Docker daemon at ${daemon} (it has ${available.join(", ") || "none"}); runc is refused unless a policy says isolation.runtime: runc`,
      {
        hint: "install runsc (apt-get install runsc) and start the daemon with scripts/dockerd.sh",
      },
    );
  }
  if (!available.includes(requested)) {
    throw new SandboxedError(
      "SBX_CONTAINER_RUNTIME",
      `the policy asks for runtime ${requested}, which the Docker daemon at ${daemon} does not have (it has ${available.join(", ") || "none"})`,
      {
        hint:
          requested === "sysbox-runc"
            ? "install Sysbox on this host, or write isolation.runtime: auto"
            : "start the daemon with scripts/dockerd.sh, which registers runsc",
      },
    );
  }
  return { runtime: requested, hardened: requested !== "runc" };
}

/** The report's backend label: `container (runsc)`, or a loud one for runc. */
export function backendLabel(choice: RuntimeChoice): string {
  return choice.hardened
    ? `container (${choice.runtime})`
    : `container (${choice.runtime}, NOT HARDENED)`;
}

/**
 * gVisor's overlay of the container's root in the sandbox's own memory: the one writable root the
 * backend allows, because what is written there is charged to the container's memory cgroup (the
 * policy's memory cap) and never reaches the host. Docker's writable layer would be host disk
 * outside every cap.
 */
export const RUNSC_ROOT_OVERLAY = "--overlay2=root:memory";

/** The runsc flag, if any, that would hold bound folders (the workspace) in memory too. */
export function mountsOverlay(args: readonly string[]): string | undefined {
  return args.find((a) => /^--overlay(=true)?$|^--overlay2=all:/.test(a));
}

/**
 * Refuses a runtime whose arguments would break a cap: runsc overlaying every mount keeps the
 * workspace's writes in memory, so the disk cap (the workspace image) would never fill.
 */
export function checkRuntimeArgs(
  choice: RuntimeChoice,
  args: readonly string[],
  daemon: string,
): void {
  const bad = choice.runtime === "runsc" ? mountsOverlay(args) : undefined;
  if (bad) {
    throw new SandboxedError(
      "SBX_CONTAINER_RUNTIME",
      `runsc on the Docker daemon at ${daemon} runs with ${bad}, which holds the workspace's writes in memory: the disk cap would not hold`,
      { hint: `register runsc with ${RUNSC_ROOT_OVERLAY} instead (scripts/dockerd.sh does)` },
    );
  }
}

/**
 * Whether a container's root may be writable: only with sudo (nobody else could write the
 * system folders), only under runsc, and only where the daemon gives runsc the root overlay in
 * memory. Everywhere else the root stays read-only; the default is read-only.
 */
export function rootWritable(runtime: Runtime, sudo: boolean, args: readonly string[]): boolean {
  return sudo && runtime === "runsc" && args.includes(RUNSC_ROOT_OVERLAY);
}
