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
