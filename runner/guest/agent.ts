/**
 * The guest agent: runs inside the VM as root, child of the guest init (vm-templates/guest/init),
 * on the template's own Node.js. It mounts the disks, applies in-guest limits (a cgroup for the
 * job with memory, pids and no swap), runs each step as the unprivileged job user with a clean
 * environment, streams output and exit codes to the host, watches for limit breaches, reports
 * peaks, and exits; init then powers the guest off.
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
  statfsSync,
  writeFileSync,
  writeSync,
  rmSync,
  chownSync,
} from "node:fs";
import path from "node:path";
import {
  AGENT_PORT_NAME,
  jobConfigSchema,
  OUTPUT_CHUNK_CHARS,
  PROTOCOL_VERSION,
} from "./protocol.js";
import type { AgentMessage, JobConfig } from "./protocol.js";

const AGENT_VERSION = "0.1.0";
const SANDBOX_MNT = "/sandbox";
const CONFIG_MNT = "/run/sandboxed/config";
const JOB_CGROUP = "/sys/fs/cgroup/job";
/** Guest RAM kept back from the job for the kernel and this agent. */
const RESERVE_BYTES = 160 * 2 ** 20;
const POLL_MS = 200;
const FULL_BYTES = 2 ** 20;

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

function readNumber(file: string, field?: string): number {
  try {
    const text = readFileSync(file, "utf8");
    if (!field) return Number(text.trim()) || 0;
    const m = new RegExp(`^${field} (\\d+)$`, "m").exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function setup(config: JobConfig): void {
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

/**
 * The guest's one interface, resolver and proxy, and the in-guest nftables baseline: only the
 * proxy and the DNS filter are reachable. This is defence in depth: guest root can flush it, and
 * the host-side namespace enforces the same thing where the guest cannot reach (issue 4).
 */
function setupNetwork(net: NonNullable<JobConfig["network"]>): void {
  sh("modprobe", ["-q", "virtio_net"]);
  let iface = "";
  for (let attempt = 0; attempt < 250 && !iface; attempt++) {
    for (const name of readdirSync("/sys/class/net")) {
      try {
        if (readFileSync(`/sys/class/net/${name}/address`, "utf8").trim() === net.mac) iface = name;
      } catch {
        // not ready
      }
    }
    if (!iface) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  if (!iface) throw new Error(`no network interface with MAC ${net.mac}`);
  sh("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
  sh("ip", ["addr", "add", `${net.address}/${net.prefix}`, "dev", iface]);
  sh("ip", ["link", "set", iface, "up"]);
  sh("ip", ["route", "add", "default", "via", net.gateway]);
  writeFileSync("/etc/resolv.conf", `nameserver ${net.dns}\noptions timeout:2 attempts:2\n`);
  const rules = [
    "table inet sandboxed {",
    "  chain output {",
    "    type filter hook output priority 0; policy drop;",
    '    oif "lo" accept',
    "    ct state established,related accept",
    `    ip daddr ${net.proxy.host} tcp dport ${net.proxy.port} accept`,
    `    ip daddr ${net.dns} udp dport 53 accept`,
    `    ip daddr ${net.dns} tcp dport 53 accept`,
    "  }",
    "}",
  ].join("\n");
  execFileSync("nft", ["-f", "-"], { input: rules, stdio: ["pipe", "ignore", "inherit"] });
}

function proxyEnv(net: JobConfig["network"]): Record<string, string> {
  if (!net) return {};
  const url = `http://${net.proxy.host}:${net.proxy.port}`;
  const noProxy = "localhost,127.0.0.1,::1";
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

interface Watch {
  breach: AgentMessage | undefined;
  peakPids: number;
  peakDisk: number;
}

function diskUsed(): { used: number; full: boolean } {
  const s = statfsSync(SANDBOX_MNT);
  const root = statfsSync("/");
  return {
    used: (s.blocks - s.bfree) * s.bsize,
    // Full: less than 1 MiB left for the job on the workspace or the root overlay. ENOSPC comes
    // a few blocks early (ext4 keeps clusters back for delayed allocation), so never exactly 0.
    full: s.bavail * s.bsize < FULL_BYTES || root.bavail * root.bsize < FULL_BYTES,
  };
}

function killJob(): void {
  try {
    writeFileSync(path.join(JOB_CGROUP, "cgroup.kill"), "1");
  } catch {
    // older kernels: kill each process
    for (const pid of readFileSync(path.join(JOB_CGROUP, "cgroup.procs"), "utf8").split("\n")) {
      if (pid) {
        try {
          process.kill(Number(pid), "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }
}

function check(config: JobConfig, watch: Watch, kill: () => void): void {
  if (watch.breach) return;
  const pids = readNumber(path.join(JOB_CGROUP, "pids.current"));
  watch.peakPids = Math.max(watch.peakPids, pids);
  const disk = diskUsed();
  watch.peakDisk = Math.max(watch.peakDisk, disk.used);
  if (readNumber(path.join(JOB_CGROUP, "memory.events"), "oom_kill") > 0) {
    watch.breach = {
      t: "breach",
      kind: "memory",
      detail: "the job's processes were killed for memory",
    };
  } else if (readNumber(path.join(JOB_CGROUP, "pids.events"), "max") > 0) {
    watch.breach = {
      t: "breach",
      kind: "pids",
      detail: `fork refused at ${config.limits.pids} processes`,
    };
  } else if (disk.full) {
    watch.breach = {
      t: "breach",
      kind: "disk",
      detail: "no space left on the workspace or root disk",
    };
  }
  if (watch.breach) {
    send(watch.breach);
    kill();
  }
}

function runStep(config: JobConfig, index: number, watch: Watch): Promise<number | null> {
  const step = config.steps[index]!;
  send({ t: "step-start", i: index, name: step.name });
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
    ...step.env,
  };
  const cwd = path.resolve(SANDBOX_MNT, "work", step.workingDirectory);
  // Join the job cgroup first, then drop to the job user: nothing runs as the job outside it.
  const wrapper =
    `echo $$ > ${JOB_CGROUP}/cgroup.procs && exec setpriv --reuid=${config.user.uid} ` +
    `--regid=${config.user.gid} --init-groups ${config.sudo ? "" : "--no-new-privs "}-- "$@"`;
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", wrapper, "sh", ...step.argv], {
      cwd: existsSync(cwd) ? cwd : path.join(SANDBOX_MNT, "work"),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const forward = (s: "o" | "e") => (chunk: Buffer) => {
      const text = chunk.toString("utf8");
      for (let i = 0; i < text.length; i += OUTPUT_CHUNK_CHARS) {
        send({ t: "out", i: index, s, d: text.slice(i, i + OUTPUT_CHUNK_CHARS) });
      }
    };
    child.stdout.on("data", forward("o"));
    child.stderr.on("data", forward("e"));
    const timer = setInterval(() => check(config, watch, killJob), POLL_MS);
    child.on("error", (error) => {
      send({ t: "out", i: index, s: "e", d: `cannot start ${step.argv[0]}: ${error.message}\n` });
    });
    child.on("exit", () => {
      check(config, watch, killJob);
      // Background processes the step left behind end with it (they would hold its pipes open).
      killJob();
    });
    child.on("close", (code, signal) => {
      clearInterval(timer);
      send({ t: "step-end", i: index, code, signal, ms: Date.now() - started });
      resolve(code);
    });
  });
}

async function main(): Promise<void> {
  try {
    portFd = openSync(findPort(), "w");
  } catch (error) {
    process.stderr.write(`sandboxed-agent: ${(error as Error).message}\n`);
  }
  send({
    t: "hello",
    v: PROTOCOL_VERSION,
    agent: AGENT_VERSION,
    kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
    uptimeMs: uptimeMs(),
  });
  mkdirSync(CONFIG_MNT, { recursive: true });
  sh("mount", ["-t", "ext4", "-o", "ro,nodev,nosuid,noexec", disk("config"), CONFIG_MNT]);
  const config = jobConfigSchema.parse(
    JSON.parse(readFileSync(path.join(CONFIG_MNT, "job.json"), "utf8")),
  );
  setup(config);
  send({ t: "ready", uptimeMs: uptimeMs() });
  const watch: Watch = { breach: undefined, peakPids: 0, peakDisk: 0 };
  for (let i = 0; i < config.steps.length; i++) {
    const code = await runStep(config, i, watch);
    if (watch.breach || (config.stopOnFailure && code !== 0)) break;
  }
  send({
    t: "peaks",
    memoryBytes: readNumber(path.join(JOB_CGROUP, "memory.peak")),
    pids: watch.peakPids,
    diskBytes: watch.peakDisk,
  });
  send({ t: "done" });
}

main().catch((error: unknown) => {
  send({ t: "error", message: (error as Error).message });
  process.exitCode = 1;
});
