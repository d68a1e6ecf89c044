/**
 * The guest agent: runs inside the VM as root, child of the guest init (vm-templates/guest/init),
 * on the template's own Node.js. It mounts the disks, applies in-guest limits (a cgroup for the
 * job with memory, pids and no swap), runs each step as the unprivileged job user with a clean
 * environment, streams output and exit codes to the host, watches for limit breaches, reports
 * peaks, and exits; init then powers the guest off.
 *
 * In a container (`--stdio`, the container backend) the host has done the mounts, the network
 * and the caps already (read-only root, workspace binds, the container's cgroup): the agent reads
 * its config as the first line of standard input and speaks the same protocol over standard
 * input and output. It is not PID 1 there (docker-init is), so it ends the job's processes with
 * kill(-1) and counts them in /proc.
 *
 * Bundled by scripts/bundle-guest.mjs into one file with no dependencies but Node.
 */
import { spawn, execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
  rmSync,
  chownSync,
} from "node:fs";
import { release } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  AGENT_PORT_NAME,
  hostMessageSchema,
  jobConfigSchema,
  OUTPUT_CHUNK_CHARS,
  PROTOCOL_VERSION,
} from "./protocol.js";
import type { AgentMessage, HostMessage, JobConfig } from "./protocol.js";
import { proxyEnv, setupNetwork } from "./agent-network.js";
import { check, JOB_CGROUP, killJob, readNumber, SANDBOX_MNT, STDIO } from "./agent-limits.js";
import type { Watch } from "./agent-limits.js";
import { startSudoBroker } from "./agent-sudo.js";

const AGENT_VERSION = "0.1.0";
const CONFIG_MNT = "/run/sandboxed/config";
/** Guest RAM kept back from the job for the kernel and this agent. */
const RESERVE_BYTES = 160 * 2 ** 20;
const POLL_MS = 200;

/** Disks are found by the virtio-blk serial the host gives them, not by probe order. */
function disk(serial: string): string {
  for (const name of readdirSync("/sys/block")) {
    try {
      if (readFileSync(`/sys/block/${name}/serial`, "utf8").trim() === serial)
        return `/dev/${name}`;
    } catch {
      // not a virtio disk
    }
  }
  throw new Error(`no disk with serial ${serial}`);
}

/** The port's name appears a moment after virtio_console loads: look for up to 5 s. */
function findPort(): string {
  const root = "/sys/class/virtio-ports";
  for (let attempt = 0; attempt < 250; attempt++) {
    for (const name of existsSync(root) ? readdirSync(root) : []) {
      try {
        const label = readFileSync(path.join(root, name, "name"), "utf8").trim();
        if (label === AGENT_PORT_NAME && existsSync(`/dev/${name}`)) return `/dev/${name}`;
      } catch {
        // not ready yet
      }
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  throw new Error(`virtio port ${AGENT_PORT_NAME} not found`);
}

let portFd = -1;
function send(message: AgentMessage): void {
  const line = `${JSON.stringify(message)}\n`;
  if (portFd >= 0) writeSync(portFd, line);
  else process.stdout.write(line);
}

function uptimeMs(): number {
  return Math.round(Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000);
}

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
}

function setup(config: JobConfig): void {
  if (STDIO) return; // the container backend's host did all of this (container-spec.ts)
  // Workspace: the fixed-size disk is the disk cap; /tmp and /var/tmp live on it too, so
  // nothing a job writes escapes the cap except the root overlay (capped by the template size).
  mkdirSync(SANDBOX_MNT, { recursive: true });
  sh("mount", ["-t", "ext4", "-o", "nodev,nosuid", disk("workspace"), SANDBOX_MNT]);
  for (const dir of ["work", "tmp"]) mkdirSync(path.join(SANDBOX_MNT, dir), { recursive: true });
  chownSync(path.join(SANDBOX_MNT, "work"), config.user.uid, config.user.gid);
  writeFileSync(path.join(SANDBOX_MNT, "tmp", ".keep"), "");
  sh("chmod", ["1777", path.join(SANDBOX_MNT, "tmp")]);
  sh("mount", ["--bind", path.join(SANDBOX_MNT, "tmp"), "/tmp"]);
  sh("mount", ["--bind", path.join(SANDBOX_MNT, "tmp"), "/var/tmp"]);
  if (!config.sudo) rmSync("/etc/sudoers.d/sandboxed", { force: true });
  if (config.network) setupNetwork(config.network);
  // The job's cgroup: memory below guest RAM so the OOM killer picks the job, never the agent.
  if (!existsSync("/sys/fs/cgroup/cgroup.controllers")) {
    sh("mount", ["-t", "cgroup2", "none", "/sys/fs/cgroup"]);
  }
  writeFileSync("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids");
  mkdirSync(JOB_CGROUP, { recursive: true });
  const memory = Math.max(64 * 2 ** 20, config.limits.memoryBytes - RESERVE_BYTES);
  writeFileSync(path.join(JOB_CGROUP, "memory.max"), String(memory));
  writeFileSync(path.join(JOB_CGROUP, "memory.swap.max"), "0");
  writeFileSync(path.join(JOB_CGROUP, "memory.oom.group"), "1");
  writeFileSync(path.join(JOB_CGROUP, "pids.max"), String(config.limits.pids));
}

interface Command {
  readonly i: number;
  readonly name: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  readonly stdin?: string | undefined;
}

/**
 * Run one command as the job user in the job cgroup. `keepBackground`: a workflow step may leave
 * a server running for the next step (as on GitHub); the step ends when its process exits, and
 * the guest's power-off ends the rest. Config steps end everything they started.
 */
function runCommand(
  config: JobConfig,
  cmd: Command,
  watch: Watch,
  keepBackground: boolean,
  running: Map<number, () => void>,
): Promise<number | null> {
  send({ t: "step-start", i: cmd.i, name: cmd.name });
  const started = Date.now();
  const home = `/home/${config.user.name}`;
  const env = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    HOME: home,
    USER: config.user.name,
    LOGNAME: config.user.name,
    LANG: "C.UTF-8",
    ...proxyEnv(config.network),
    ...config.env,
    ...cmd.env,
  };
  const cwd = path.resolve(SANDBOX_MNT, "work", cmd.cwd);
  // Join the job cgroup first (or, without one, cap the job user's forks), then drop to the job
  // user: nothing runs as the job outside it.
  const n = config.nprocLimit;
  const wrapper =
    `${STDIO ? "" : `echo $$ > ${JOB_CGROUP}/cgroup.procs && `}exec ` +
    `${n ? `prlimit --nproc=${n}:${n} ` : ""}setpriv --reuid=${config.user.uid} ` +
    `--regid=${config.user.gid} --init-groups ${config.sudo ? "" : "--no-new-privs "}-- "$@"`;
  return new Promise((resolve) => {
    let finished = false;
    const finish = (code: number | null, signal: string | null): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      running.delete(cmd.i);
      send({ t: "step-end", i: cmd.i, code, signal, ms: Date.now() - started });
      resolve(code);
    };
    const timer = setInterval(() => check(config, watch, killJob, send), POLL_MS);
    if (!existsSync(cwd)) {
      send({ t: "out", i: cmd.i, s: "e", d: `working directory not found: ${cwd}\n` });
      finish(1, null);
      return;
    }
    const child = spawn("/bin/sh", ["-c", wrapper, "sh", ...cmd.argv], {
      cwd,
      env,
      stdio: [cmd.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      // Its own process group: a kill (step timeout) ends this step's processes, not a server an
      // earlier step left running.
      detached: true,
    });
    running.set(cmd.i, () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    });
    if (cmd.stdin !== undefined) child.stdin?.end(cmd.stdin);
    child.stdin?.on("error", () => undefined);
    const forward = (s: "o" | "e") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      for (let i = 0; i < text.length; i += OUTPUT_CHUNK_CHARS) {
        send({ t: "out", i: cmd.i, s, d: text.slice(i, i + OUTPUT_CHUNK_CHARS) });
      }
    };
    const { stdout, stderr } = child as unknown as { stdout: Readable; stderr: Readable };
    stdout.on("data", forward("o"));
    stderr.on("data", forward("e"));
    child.on("error", (error) => {
      send({ t: "out", i: cmd.i, s: "e", d: `cannot start ${cmd.argv[0]}: ${error.message}\n` });
    });
    child.on("exit", (code, signal) => {
      check(config, watch, killJob, send);
      if (!keepBackground) {
        // Background processes the step left behind end with it (they would hold its pipes open).
        killJob();
        return;
      }
      // A background process may hold the pipes open: give the output a moment, then move on.
      setTimeout(() => {
        stdout.destroy();
        stderr.destroy();
        finish(code, signal);
      }, 300);
    });
    child.on("close", (code, signal) => finish(code, signal));
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/**
 * Lines from the host, as they come: the virtio port (read by a `cat` child: a blocking read of
 * the port in Node's thread pool would keep process.exit from returning, as libuv joins the pool
 * at exit) or, in a container, standard input. Lines before a handler is set wait in `early`.
 */
const early: string[] = [];
let onHostLine: ((line: string) => void) | undefined;
let earlyWake: (() => void) | undefined;
let reader: ReturnType<typeof spawn> | undefined;

function startHostInput(): void {
  let fromHost: Readable;
  if (STDIO) fromHost = process.stdin;
  else {
    reader = spawn("cat", [], { stdio: [portFd, "pipe", "ignore"] });
    fromHost = reader.stdout as Readable;
  }
  fromHost.setEncoding("utf8");
  let buffer = "";
  fromHost.on("data", (chunk: string) => {
    buffer += String(chunk);
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (onHostLine) onHostLine(line);
      else early.push(line);
      earlyWake?.();
    }
  });
}

function stopHostInput(): void {
  reader?.kill("SIGKILL");
  if (STDIO) process.stdin.destroy();
}

/** The container's config: the first line the host writes to standard input. */
async function configFromStdin(): Promise<unknown> {
  startHostInput();
  while (early.length === 0) await new Promise<void>((resolve) => (earlyWake = resolve));
  return JSON.parse(early.shift()!);
}

/** Interactive mode: run the host's exec commands one at a time until it says `end`. */
async function serveHost(config: JobConfig, watch: Watch): Promise<void> {
  const running = new Map<number, () => void>();
  const queue: HostMessage[] = [];
  let wake: (() => void) | undefined;
  const handle = (line: string): void => {
    const parsed = hostMessageSchema.safeParse(parseJson(line));
    if (!parsed.success) return;
    // A kill must reach the running command now, not after it.
    if (parsed.data.t === "kill") running.get(parsed.data.i)?.();
    else queue.push(parsed.data);
    wake?.();
  };
  for (const line of early.splice(0)) handle(line);
  onHostLine = handle;
  if (!STDIO) startHostInput();
  for (;;) {
    const next = queue.shift();
    if (!next) {
      await new Promise<void>((resolve) => (wake = resolve));
      continue;
    }
    if (next.t === "end") return;
    if (next.t === "exec") await runCommand(config, next, watch, true, running);
    // A cap was hit: the job is over, whatever steps the host still has (always(), post).
    if (watch.breach) return;
  }
}

/** The VM's config: on its own read-only disk. */
function configFromDisk(): unknown {
  mkdirSync(CONFIG_MNT, { recursive: true });
  sh("mount", ["-t", "ext4", "-o", "ro,nodev,nosuid,noexec", disk("config"), CONFIG_MNT]);
  return JSON.parse(readFileSync(path.join(CONFIG_MNT, "job.json"), "utf8"));
}

async function main(): Promise<void> {
  let portPath = "";
  if (!STDIO) {
    try {
      portPath = findPort();
      // One open only: a virtio console port refuses a second (EBUSY). Read and write share it.
      portFd = openSync(portPath, "r+");
    } catch (error) {
      process.stderr.write(`sandboxed-agent: ${(error as Error).message}\n`);
    }
  }
  send({
    t: "hello",
    v: PROTOCOL_VERSION,
    agent: AGENT_VERSION,
    kernel: release(),
    uptimeMs: uptimeMs(),
  });
  const config = jobConfigSchema.parse(STDIO ? await configFromStdin() : configFromDisk());
  setup(config);
  if (STDIO && config.sudo && config.sudoBroker) await startSudoBroker(config.user.gid);
  send({ t: "ready", uptimeMs: uptimeMs() });
  const watch: Watch = { breach: undefined, peakPids: 0, peakDisk: 0 };
  const none = new Map<number, () => void>();
  for (const [i, step] of config.steps.entries()) {
    const command = {
      i,
      name: step.name,
      argv: step.argv,
      env: step.env,
      cwd: step.workingDirectory,
    };
    const code = await runCommand(config, command, watch, false, none);
    if (watch.breach || (config.stopOnFailure && code !== 0)) break;
  }
  if (config.interactive && !watch.breach && (portPath || STDIO)) await serveHost(config, watch);
  stopHostInput();
  send({
    t: "peaks",
    // A container's memory peak is its cgroup's, read by the host.
    memoryBytes: STDIO ? 0 : readNumber(path.join(JOB_CGROUP, "memory.peak")),
    pids: watch.peakPids,
    diskBytes: watch.peakDisk,
  });
  send({ t: "done" });
  // The port's read stream would keep the event loop alive; init powers off when we exit.
  process.exit(0);
}

main().catch((error: unknown) => {
  send({ t: "error", message: (error as Error).message });
  process.exitCode = 1;
});
