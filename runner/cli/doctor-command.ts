/**
 * `sandboxed doctor`: gathers the host facts that doctor.ts judges, and prints its findings. Every
 * probe is read-only and quick: `--version` of each tool and of each hardened container runtime, a
 * look at /dev/kvm and the cgroup file system, two GETs to dockerd, statfs of the state dir.
 * Nothing is installed, mounted or booted.
 */
import { accessSync, constants, existsSync, readFileSync, statfsSync } from "node:fs";
import { get } from "node:http";
import path from "node:path";
import type { Command } from "commander";
import { execa } from "execa";
import { cgroupLayout } from "../sandbox/index.js";
import { accelCacheFile, cachedAccel } from "../sandbox/vm/index.js";
import { assessHost, doctorExitCode, HARDENED_RUNTIMES } from "./doctor.js";
import type {
  CgroupFact,
  DockerFact,
  Finding,
  HostFacts,
  Level,
  RuntimeFact,
  ToolFact,
} from "./doctor.js";
import type { Io } from "./main.js";
import { stateDirOf } from "./sandbox-commands.js";

/**
 * The container backend's own daemon (scripts/dockerd.sh), never the host's or a job's: its
 * settings (no iptables, no bridge, runsc with --network=host) are what the backend relies on.
 */
export const DEFAULT_DOCKER_SOCKET = "/run/sandboxed/docker.sock";
const CGROUP_ROOT = "/sys/fs/cgroup";
const TIMEOUT_MS = 5000;

async function toolFact(command: string, args: readonly string[]): Promise<ToolFact> {
  try {
    const r = await execa(command, args, { reject: false, timeout: TIMEOUT_MS, stdin: "ignore" });
    const line = `${r.stdout}\n${r.stderr}`
      .split("\n")
      .find((l) => l.trim() !== "")
      ?.trim();
    if (r.failed && r.exitCode === undefined)
      return { found: false, error: r.shortMessage ?? "did not run" };
    if (r.exitCode !== 0) return { found: false, error: `exit ${r.exitCode}: ${line ?? ""}` };
    return { found: true, output: line ?? "" };
  } catch (error) {
    return { found: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function canReadWrite(file: string): boolean {
  try {
    accessSync(file, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * KVM as the VM backend sees it: /dev/kvm, and the backend's probe cache for this host boot,
 * read only (doctor never probes and never writes the cache).
 */
function kvmFact(stateDir: string): HostFacts["kvm"] {
  const present = existsSync("/dev/kvm");
  const accessible = present && canReadWrite("/dev/kvm");
  const cached = accessible ? cachedAccel(stateDir) : undefined;
  return {
    present,
    accessible,
    probe: cached?.accel ?? "none",
    ...(cached ? { probeReason: cached.reason } : {}),
    cacheFile: accelCacheFile(stateDir),
  };
}

function words(file: string): string[] {
  try {
    return readFileSync(file, "utf8")
      .split(/\s+/)
      .filter((w) => w !== "");
  } catch {
    return [];
  }
}

/** Through the sandbox area's own layout rule, so doctor and sandboxes agree on the version. */
function cgroupFact(): CgroupFact {
  if (!existsSync(CGROUP_ROOT)) return { version: "none" };
  const layout = cgroupLayout(CGROUP_ROOT, "doctor");
  if (layout.version === 2) {
    return {
      version: 2,
      controllers: words(path.join(CGROUP_ROOT, "cgroup.controllers")),
      subtreeControl: words(path.join(CGROUP_ROOT, "cgroup.subtree_control")),
    };
  }
  // v1 dirs are <root>/<controller>/sandboxed/<id>; the hierarchy is two levels up.
  const mounted = layout.dirs
    .map((d) => path.dirname(path.dirname(d)))
    .filter((h) => existsSync(path.join(h, "cgroup.procs")))
    .map((h) => path.basename(h));
  return mounted.length === 0 ? { version: "none" } : { version: 1, mounted };
}

function dockerGet(socketPath: string, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ socketPath, path: urlPath, timeout: TIMEOUT_MS }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000}s`)));
    req.on("error", reject);
  });
}

/**
 * A hardened runtime is run once (`--version`) from the path dockerd would run it from: a
 * registered runtime whose binary is gone fails only when a job starts, so doctor says it first.
 */
async function runtimeFact(name: string, file: string, args: string[]): Promise<RuntimeFact> {
  const fact = { name, path: file, args };
  if (!(HARDENED_RUNTIMES as readonly string[]).includes(name)) return fact;
  return { ...fact, probe: await toolFact(file, ["--version"]) };
}

export async function dockerFact(socket: string): Promise<DockerFact> {
  try {
    const ping = await dockerGet(socket, "/_ping");
    if (ping.status !== 200) {
      return { socket, reachable: false, error: `GET /_ping answered ${ping.status}` };
    }
    const info = await dockerGet(socket, "/info");
    if (info.status !== 200) {
      return { socket, reachable: false, error: `GET /info answered ${info.status}` };
    }
    const body = JSON.parse(info.body) as {
      ServerVersion?: string;
      CgroupVersion?: string;
      Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }>;
      DefaultRuntime?: string;
    };
    const [runtimes, cc] = await Promise.all([
      Promise.all(
        Object.entries(body.Runtimes ?? {})
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([name, r]) => runtimeFact(name, r.path ?? name, r.runtimeArgs ?? [])),
      ),
      toolFact("cc", ["--version"]),
    ]);
    return {
      socket,
      reachable: true,
      ...(body.ServerVersion ? { version: body.ServerVersion } : {}),
      ...(body.CgroupVersion ? { cgroupVersion: body.CgroupVersion } : {}),
      runtimes,
      ...(body.DefaultRuntime ? { defaultRuntime: body.DefaultRuntime } : {}),
      cc,
    };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { socket, reachable: false, error: e.code ?? e.message };
  }
}

function diskFact(stateDir: string): HostFacts["disk"] {
  let measured = stateDir;
  while (!existsSync(measured) && path.dirname(measured) !== measured) {
    measured = path.dirname(measured);
  }
  try {
    const s = statfsSync(measured);
    return { stateDir, measured, freeBytes: s.bavail * s.bsize };
  } catch (error) {
    return { stateDir, measured, error: error instanceof Error ? error.message : String(error) };
  }
}

export interface GatherOptions {
  readonly stateDir: string;
  readonly dockerSocket: string;
}

export async function gatherHostFacts(options: GatherOptions): Promise<HostFacts> {
  const [kvm, qemu, qemuImg, nft, ip, tc, mmdebstrap, docker] = await Promise.all([
    kvmFact(options.stateDir),
    toolFact("qemu-system-x86_64", ["--version"]),
    toolFact("qemu-img", ["--version"]),
    toolFact("nft", ["--version"]),
    toolFact("ip", ["-V"]),
    toolFact("tc", ["-V"]),
    toolFact("mmdebstrap", ["--version"]),
    dockerFact(options.dockerSocket),
  ]);
  return {
    isRoot: process.getuid?.() === 0,
    nodeVersion: process.version,
    kvm,
    qemu,
    qemuImg,
    nft,
    ip,
    tc,
    mmdebstrap,
    cgroup: cgroupFact(),
    docker,
    disk: diskFact(options.stateDir),
  };
}

/** DOCKER_HOST is not read: it names the daemon a user or job talks to, not the backend's. */
function dockerSocketOf(io: Io, flag?: string): string {
  return flag ? path.resolve(io.cwd, flag) : DEFAULT_DOCKER_SOCKET;
}

const MARK: Record<Level, string> = { ok: "ok", warn: "warn", fail: "FAIL" };

/** The table `sandboxed doctor` prints: check, status, detail, and a fix line under each gap. */
export function renderDoctorTable(findings: readonly Finding[]): string {
  const width = Math.max(5, ...findings.map((f) => f.check.length));
  const pad = " ".repeat(width + 2 + 8);
  const rows = findings.map(
    (f) =>
      `${f.check.padEnd(width)}  ${MARK[f.level].padEnd(6)}  ${f.detail}` +
      (f.fix && !f.ok ? `\n${pad}fix: ${f.fix}` : ""),
  );
  const fails = findings.filter((f) => f.level === "fail").length;
  const warns = findings.filter((f) => f.level === "warn").length;
  const summary =
    fails > 0
      ? `${fails} failed, ${warns} warning(s): sandboxes will not run well on this host until the failures are fixed`
      : warns > 0
        ? `no failures, ${warns} warning(s)`
        : "all checks passed";
  return `${"check".padEnd(width)}  status  detail\n${rows.join("\n")}\n\n${summary}\n`;
}

/** `sandboxed doctor --json` */
export function renderDoctorJson(findings: readonly Finding[]): string {
  return `${JSON.stringify({ ok: doctorExitCode(findings) === 0, findings }, null, 2)}\n`;
}

/** Registers `sandboxed doctor` on the program. */
export function doctorCommand(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command("doctor")
    .description(
      "Check that this host can run sandboxes (KVM, QEMU, nftables, iproute2, cgroups, disk, Docker runtimes) and say how to fix each gap.",
    )
    .option("--json", "print the findings as JSON")
    .option("--allow-tcg", "accept a host without usable KVM (VMs under emulation) as a warning")
    .option("--state-dir <dir>", "the state dir to measure (env SANDBOXED_STATE_DIR)")
    .option(
      "--docker-socket <path>",
      `the container backend's dockerd socket (default ${DEFAULT_DOCKER_SOCKET}, started by scripts/dockerd.sh)`,
    )
    .addHelpText(
      "after",
      "\nExit status: 0 no failures (warnings allowed), 1 a failed check.\nEach check: docs/operations.md#sandboxed-doctor\n",
    )
    .action(
      async (opts: {
        json?: boolean;
        allowTcg?: boolean;
        stateDir?: string;
        dockerSocket?: string;
      }) => {
        const facts = await gatherHostFacts({
          stateDir: stateDirOf(io, opts.stateDir),
          dockerSocket: dockerSocketOf(io, opts.dockerSocket),
        });
        const findings = assessHost(facts, { allowTcg: opts.allowTcg ?? false });
        io.stdout(opts.json ? renderDoctorJson(findings) : renderDoctorTable(findings));
        setExit(doctorExitCode(findings));
      },
    );
}
