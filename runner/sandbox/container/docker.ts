/**
 * The Docker Engine API, through dockerode, on a socket the service owns. The socket is never
 * given to a job: no container gets a host mount, device or socket (container-spec.ts).
 */
import Docker from "dockerode";
import { SandboxedError } from "../../errors/index.js";

/** The dedicated daemon scripts/dockerd.sh starts (no iptables, no bridge, runsc registered). */
export const DEFAULT_DOCKER_SOCKET = "/run/sandboxed/docker.sock";

export interface DaemonFacts {
  readonly version: string;
  /**
   * Every runtime the daemon has registered, by name, with its runtimeArgs (runsc's decide the
   * root's fate).
   */
  readonly runtimeArgs: Readonly<Record<string, readonly string[]>>;
  readonly cgroupVersion: string;
  readonly cgroupDriver: string;
}

export function connectDocker(socketPath: string): Docker {
  return new Docker({ socketPath, timeout: 0 });
}

export function daemonError(socketPath: string, error: unknown): SandboxedError {
  return new SandboxedError(
    "SBX_CONTAINER_DAEMON",
    `the Docker daemon at ${socketPath} does not answer: ${(error as Error).message}`,
    {
      hint: "start it with: sh scripts/dockerd.sh (or give --docker-socket PATH of a daemon with runsc)",
      cause: error,
    },
  );
}

/** The daemon refused to create or start the container: its words, and where to look next. */
export function containerStartError(
  what: "create" | "start",
  runtime: string,
  error: unknown,
): SandboxedError {
  return new SandboxedError(
    "SBX_CONTAINER_START",
    `the Docker daemon could not ${what} the container under ${runtime}: ${(error as Error).message.trim()}`,
    {
      hint: `check the daemon's log (/var/log/sandboxed-dockerd.log for scripts/dockerd.sh's) and that \`${runtime} --version\` runs; sandboxed doctor checks both`,
      cause: error,
    },
  );
}

/** What the backend needs to know of the daemon, or SBX_CONTAINER_DAEMON. */
export async function daemonFacts(docker: Docker, socketPath: string): Promise<DaemonFacts> {
  try {
    const info = (await docker.info()) as {
      ServerVersion?: string;
      Runtimes?: Record<string, { runtimeArgs?: unknown } | undefined>;
      CgroupVersion?: string;
      CgroupDriver?: string;
    };
    return {
      version: info.ServerVersion ?? "unknown",
      runtimeArgs: Object.fromEntries(
        Object.entries(info.Runtimes ?? {}).map(([name, r]) => [
          name,
          Array.isArray(r?.runtimeArgs) ? r.runtimeArgs.map(String) : [],
        ]),
      ),
      cgroupVersion: info.CgroupVersion ?? "1",
      cgroupDriver: info.CgroupDriver ?? "cgroupfs",
    };
  } catch (error) {
    throw daemonError(socketPath, error);
  }
}

/** A dockerode error's HTTP status, if it has one. */
export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}
