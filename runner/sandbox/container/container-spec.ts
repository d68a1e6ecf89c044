/**
 * The Docker create request of one container sandbox: a pure function of the policy, so every
 * barrier it sets is a table test (test/sandbox/container-spec.test.ts). What it grants:
 *  - the runtime chosen by runtime.ts; NetworkMode none (the sandbox's own veth is moved in later,
 *    or nothing at all with network.mode none);
 *  - CPU (NanoCpus), memory = memory+swap, pids (the job's plus the agent's tasks);
 *  - a read-only root, unless runtime.ts rootWritable (sudo, under runsc with its root overlay in
 *    the sandbox's memory); the workspace (the disk cap, loop-mounted by the host) bound at
 *    /sandbox, its tmp/ at /tmp and /var/tmp and its home/ at the job user's home, and a small
 *    /run; identity files (resolv.conf, hosts, machine-id) read-only from the sandbox's folder;
 *  - a seccomp profile with no namespaces, mounts, keyrings, BPF or ptrace (seccomp.ts);
 *  - all capabilities dropped but what the agent needs to become the job user and end its
 *    processes, plus what `sudo: true` needs to act as root inside; no-new-privileges without sudo;
 *  - no host folder, device or socket beyond those; no log driver (output is streamed, and may
 *    hold secrets until masked: it never touches the daemon's disk).
 */
import path from "node:path";
import type { ContainerCreateOptions } from "dockerode";
import type { ResolvedPolicy } from "../../policy/index.js";
import type { Runtime } from "./runtime.js";
import { seccompProfile } from "./seccomp.js";

/** Tasks the container holds beyond the job's: docker-init and the agent's Node threads. */
export const AGENT_TASKS = 32;
/**
 * The container cgroup's pids.max. runc and sysbox-runc: the job's processes are host tasks, so
 * the job's limit plus the agent's. runsc: the job's processes live inside gVisor's Sentry and
 * the host sees only the Sentry's and the gofer's threads (about 250 for a 20-process job), so
 * the host limit is a guard for the host, and the agent enforces the job's (it counts tasks).
 */
export function hostPidsLimit(runtime: Runtime, pids: number): number {
  return runtime === "runsc" ? Math.max(2048, 4 * (pids + AGENT_TASKS)) : pids + AGENT_TASKS;
}

/** The agent: become the job user (setpriv), end the job's processes. */
export const AGENT_CAPS = ["SETUID", "SETGID", "KILL"] as const;
/** Root inside, with sudo: files and ownership; never mount, raw sockets, devices or admin. */
export const SUDO_CAPS = [
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "NET_BIND_SERVICE",
  "AUDIT_WRITE",
] as const;
export const AGENT_COMMAND = [
  "/opt/sandboxed/node/bin/node",
  "/opt/sandboxed/agent.mjs",
  "--stdio",
];
export const GUEST_HOSTNAME = "sandbox";
export const CGROUP_PARENT = "/sandboxed";
export const SANDBOX_LABEL = "dev.sandboxed.sandbox";

export interface ContainerSpecInput {
  readonly id: string;
  readonly image: string;
  readonly runtime: Runtime;
  readonly policy: ResolvedPolicy;
  readonly user: { readonly name: string; readonly uid: number; readonly gid: number };
  /** The workspace's host mount point. */
  readonly workspace: string;
  /** The sandbox's identity files: resolv.conf, hosts, machine-id, and no-sudo (empty). */
  readonly etc: string;
  /** The root is writable, in gVisor's memory overlay (runtime.ts rootWritable); else read-only. */
  readonly rootWritable?: boolean;
}

/** Setuid cannot work under gVisor (it forces no_new_privs): sudo goes through the agent. */
export function needsSudoBroker(runtime: Runtime, sudo: boolean): boolean {
  return sudo && runtime === "runsc";
}

export function containerSpec(input: ContainerSpecInput): ContainerCreateOptions {
  const r = input.policy.resources;
  const sudo = input.policy.isolation.sudo;
  const bind = (source: string, target: string, readOnly = false) => ({
    Type: "bind" as const,
    Source: source,
    Target: target,
    ReadOnly: readOnly,
    BindOptions: { Propagation: "rprivate" as const },
  });
  const ws = input.workspace;
  return {
    name: input.id,
    Image: input.image,
    Cmd: [...AGENT_COMMAND],
    Entrypoint: [],
    Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
    User: "0:0",
    WorkingDir: "/",
    Hostname: GUEST_HOSTNAME,
    Labels: { [SANDBOX_LABEL]: input.id },
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    NetworkDisabled: false,
    HostConfig: {
      Runtime: input.runtime,
      Init: true,
      NetworkMode: "none",
      IpcMode: "private",
      CgroupParent: CGROUP_PARENT,
      NanoCpus: Math.round(r.cpus * 1e9),
      Memory: r.memoryBytes,
      MemorySwap: r.memoryBytes,
      PidsLimit: hostPidsLimit(input.runtime, r.pids),
      OomScoreAdj: 500,
      // No core dumps: under runc they would go through the host's core_pattern.
      Ulimits: [{ Name: "core", Soft: 0, Hard: 0 }],
      ReadonlyRootfs: input.rootWritable !== true,
      Privileged: false,
      CapDrop: ["ALL"],
      CapAdd: [...AGENT_CAPS, ...(sudo ? SUDO_CAPS : [])],
      SecurityOpt: [
        `seccomp=${JSON.stringify(seccompProfile(input.runtime))}`,
        // With the sudo broker nothing needs setuid either: no-new-privileges then too.
        ...(!sudo || needsSudoBroker(input.runtime, sudo) ? ["no-new-privileges"] : []),
      ],
      Devices: [],
      LogConfig: { Type: "none", Config: {} },
      RestartPolicy: { Name: "no" },
      AutoRemove: false,
      Tmpfs: { "/run": "rw,nosuid,nodev,noexec,size=16m,mode=755" },
      Mounts: [
        bind(ws, "/sandbox"),
        bind(path.join(ws, "tmp"), "/tmp"),
        bind(path.join(ws, "tmp"), "/var/tmp"),
        bind(path.join(ws, "home"), `/home/${input.user.name}`),
        bind(path.join(input.etc, "resolv.conf"), "/etc/resolv.conf", true),
        bind(path.join(input.etc, "hosts"), "/etc/hosts", true),
        bind(path.join(input.etc, "machine-id"), "/etc/machine-id", true),
        ...(sudo ? [] : [bind(path.join(input.etc, "no-sudo"), "/etc/sudoers.d/sandboxed", true)]),
        ...(needsSudoBroker(input.runtime, sudo)
          ? [bind(path.join(input.etc, "sudo"), "/usr/bin/sudo", true)]
          : []),
      ],
    },
  };
}
