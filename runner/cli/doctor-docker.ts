/**
 * `sandboxed doctor`'s Docker checks (issue 7): is the container backend's daemon there, and does
 * it have a hardened runtime registered the way the backend relies on. Pure: facts in, findings
 * out, with table tests in test/cli/doctor.test.ts.
 */
import { mountsOverlay, rootWritable, RUNSC_ROOT_OVERLAY } from "../sandbox/container/index.js";
import { finding } from "./doctor-finding.js";
import type { Finding, ToolFact } from "./doctor-finding.js";

/** Container runtimes that isolate a job (issue 7); runc alone does not. */
export const HARDENED_RUNTIMES = ["runsc", "sysbox-runc"] as const;

/** A runtime from GET /info `Runtimes`. */
export interface RuntimeFact {
  readonly name: string;
  readonly path: string;
  readonly args: readonly string[];
  /** `<path> --version`, run for the hardened runtimes only: registered is not the same as runnable. */
  readonly probe?: ToolFact;
}

export type DockerFact =
  | { readonly socket: string; readonly reachable: false; readonly error: string }
  | {
      readonly socket: string;
      readonly reachable: true;
      readonly version?: string;
      /** GET /info `CgroupVersion`: "1" or "2". */
      readonly cgroupVersion?: string;
      readonly runtimes: readonly RuntimeFact[];
      readonly defaultRuntime?: string;
      /** `cc --version`: the image import compiles the statx library (container/statx-compat.ts). */
      readonly cc?: ToolFact;
    };

const DOCKERD_FIX =
  "sh scripts/dockerd.sh as root, from a sandboxed checkout (docs/operations.md#container-backend-the-docker-daemon)";

/** Why a registered hardened runtime cannot serve the container backend, if it cannot. */
function runtimeGap(r: RuntimeFact): string | undefined {
  if (r.probe && !r.probe.found)
    return `${r.name} is registered but ${r.path} does not run (${r.probe.error})`;
  if (r.name === "runsc" && !r.args.includes("--network=host"))
    return "runsc lacks runtimeArgs --network=host, so jobs in it get no network";
  if (r.name === "runsc" && !r.args.includes("--oci-seccomp"))
    return "runsc lacks runtimeArgs --oci-seccomp, so the sandbox's seccomp profile is not applied";
  const overlay = r.name === "runsc" ? mountsOverlay(r.args) : undefined;
  if (overlay)
    return `runsc has runtimeArgs ${overlay}, which holds the workspace in memory, so the disk cap would not hold (the backend refuses it)`;
  return undefined;
}

/** The image import builds the statx compatibility library with the host's C compiler. */
function compiler(cc: ToolFact): Finding {
  if (!cc.found) {
    return finding(
      "docker image compiler",
      "warn",
      `no C compiler (${cc.error}): a template's first container job cannot build its image (SBX_CONTAINER_IMAGE: the statx library for ls -l and stat under runsc)`,
      "apt-get install gcc libc6-dev (scripts/dockerd.sh installs them)",
    );
  }
  return finding("docker image compiler", "ok", cc.output);
}

export function dockerFindings(d: DockerFact): Finding[] {
  return [...daemonFindings(d), ...(d.reachable && d.cc ? [compiler(d.cc)] : [])];
}

function daemonFindings(d: DockerFact): Finding[] {
  if (!d.reachable) {
    return [
      finding(
        "docker",
        "warn",
        `dockerd not reachable on ${d.socket} (${d.error}): no container backend; the VM backend does not need it`,
        `only for label sets with backend: container: ${DOCKERD_FIX}`,
      ),
      finding("docker runtimes", "warn", "not checked: dockerd is not reachable"),
    ];
  }
  const cgroup = d.cgroupVersion ? `, cgroup v${d.cgroupVersion}` : "";
  const version = finding(
    "docker",
    "ok",
    `Docker ${d.version ?? "(version unknown)"} on ${d.socket}${cgroup}`,
  );
  const isHardened = (r: RuntimeFact) => (HARDENED_RUNTIMES as readonly string[]).includes(r.name);
  const hardened = d.runtimes.filter(isHardened);
  const gaps = hardened.flatMap((r) => runtimeGap(r) ?? []);
  const usable = hardened.filter((r) => runtimeGap(r) === undefined);
  const listed = `${d.runtimes.map((r) => r.name).join(", ") || "none"}${d.defaultRuntime ? ` (default ${d.defaultRuntime})` : ""}`;
  if (hardened.length === 0) {
    return [
      version,
      finding(
        "docker runtimes",
        "warn",
        `${listed}: no hardened runtime; the container backend refuses runc unless a policy says runtime: runc`,
        `${DOCKERD_FIX} (installs runsc and registers it); or sysbox from https://github.com/nestybox/sysbox/releases`,
      ),
    ];
  }
  const shown = usable.map((r) => `${r.name} (${r.probe?.found ? r.probe.output : r.path})`);
  if (gaps.length > 0) {
    const rest =
      shown.length > 0 ? `; usable: ${shown.join(", ")}` : ": no usable hardened runtime";
    return [version, finding("docker runtimes", "warn", `${gaps.join("; ")}${rest}`, DOCKERD_FIX)];
  }
  const ok = `${listed}; hardened: ${shown.join(", ")}`;
  const runsc = usable.find((r) => r.name === "runsc");
  // The backend's own rule decides: would a sudo job under this runsc get a writable root?
  if (runsc && !rootWritable("runsc", true, runsc.args)) {
    return [
      version,
      finding(
        "docker runtimes",
        "warn",
        `${ok}; runsc lacks runtimeArgs ${RUNSC_ROOT_OVERLAY}, so a container's root stays read-only even with sudo (no sudo apt-get install)`,
        DOCKERD_FIX,
      ),
    ];
  }
  return [version, finding("docker runtimes", "ok", ok)];
}
