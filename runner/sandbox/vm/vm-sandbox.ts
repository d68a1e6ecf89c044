/**
 * The QEMU microvm backend: one fresh VM per job, built on a read-only template, held to the
 * policy's caps, and removed without a trace. Lifecycle (docs/sandbox-lifecycle.md):
 *
 *  1. journal + uid      record, then allocate a per-sandbox uid
 *  2. disks              qcow2 overlay on the template; workspace of exactly the disk cap;
 *                        read-only config disk with job.json (all recorded before creation)
 *  3. agent socket       host end of the virtio-serial port
 *  4. cgroup             cpu quota, memory = guest RAM + bounded overhead, pids
 *  5. QEMU               jailed (jail.ts), -sandbox seccomp, as the sandbox uid
 *  6. run                stream agent messages; host timer enforces the timeout
 *  7. collect            serial log, cgroup counters, report
 *  8. destroy            remove everything recorded, newest first (always reached)
 */
import { spawn } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { startSandboxEgress } from "../../network/index.js";
import type { Resolver, SandboxEgress } from "../../network/index.js";
import type { AgentMessage, JobConfig } from "../../guest/index.js";
import { PROTOCOL_VERSION } from "../../guest/index.js";
import {
  cgroupLayout,
  cgroupStats,
  createCgroup,
  createJournal,
  EXIT_STATUS,
  removeAll,
} from "../index.js";
import type {
  Breach,
  JobSpec,
  Sandbox,
  SandboxOptions,
  SandboxReport,
  StepResult,
} from "../index.js";
import { listenAgent } from "./agent-channel.js";
import { breachMessage, vmmOverheadBytes } from "./breach.js";
import { allocateUid, jailCommand } from "./jail.js";
import { qemuArgs } from "./qemu-args.js";
import type { Accel } from "./qemu-args.js";
import type { VmTemplate } from "./template.js";

export interface VmSandboxOptions extends SandboxOptions {
  readonly template: VmTemplate;
  readonly accel: Accel;
  readonly qemuBinary?: string;
  readonly cgroupRoot?: string;
  /** Supplementary groups for QEMU (the kvm group when accel is kvm). */
  readonly groups?: readonly number[];
  readonly now?: () => number;
  /** How the egress proxy and DNS filter resolve names (default: the host's resolver). */
  readonly resolver?: Resolver;
}

export function createVmSandbox(options: VmSandboxOptions): Sandbox {
  const { id, policy, stateDir, template } = options;
  const now = options.now ?? Date.now;
  const emit = options.onEvent ?? (() => undefined);
  const journal = createJournal(stateDir, id);
  let destroyed = false;
  let egress: SandboxEgress | undefined;

  async function destroy(): Promise<void> {
    if (destroyed) return;
    destroyed = true;
    emit({ type: "phase", phase: "destroy" });
    // Listeners first: they hold addresses in the namespace the journal is about to remove.
    await egress?.close();
    const failures = await removeAll(journal);
    if (failures.length > 0)
      throw new Error(`sandbox ${id}: cleanup failed: ${failures.join("; ")}`);
  }

  async function run(job: JobSpec): Promise<SandboxReport> {
    const started = now();
    const r = policy.resources;
    const dir = journal.dir;
    const limitOf = (kind: Breach["kind"]): number =>
      ({ memory: r.memoryBytes, disk: r.diskBytes, timeout: r.timeoutSeconds, pids: r.pids })[kind];
    emit({ type: "phase", phase: "create" });

    const uid = allocateUid(stateDir, id, (_uid, lock) =>
      journal.record({ kind: "lock", path: lock, owner: id }),
    );
    const owner = { uid, gid: uid };
    // The folder stays root's: QEMU may use the files it is given, not delete the journal.
    chmodSync(dir, 0o711);

    const overlay = path.join(dir, "root.qcow2");
    journal.record({ kind: "file", path: overlay });
    await execa("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      template.rootImage,
      "-F",
      "raw",
      overlay,
    ]);

    const workspace = path.join(dir, "workspace.img");
    journal.record({ kind: "file", path: workspace });
    const filesDir = path.join(dir, "files");
    journal.record({ kind: "dir", path: filesDir });
    mkdirSync(filesDir, { recursive: true });
    mkdirSync(path.join(filesDir, "work"), { recursive: true });
    for (const f of job.files ?? []) {
      const target = path.join(filesDir, "work", f.path);
      if (!target.startsWith(path.join(filesDir, "work") + path.sep))
        throw new Error(`file path escapes the workspace: ${f.path}`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, f.content, { mode: f.mode ?? 0o644 });
    }
    // Exactly the policy's disk size: the disk cap. Sparse, formatted on the host, never mounted here.
    await execa("truncate", ["-s", String(r.diskBytes), workspace]);
    await execa("mke2fs", [
      "-q",
      "-t",
      "ext4",
      "-m",
      "0",
      "-L",
      "workspace",
      "-E",
      `lazy_itable_init=1,lazy_journal_init=1,root_owner=${template.user.uid}:${template.user.gid}`,
      "-d",
      filesDir,
      workspace,
    ]);

    // The network before the job's config, which carries its addresses. mode none: no NIC at all.
    if (policy.network.mode !== "none") {
      egress = await startSandboxEgress({
        id,
        stateDir,
        journal,
        network: policy.network,
        tapOwnerUid: uid,
        ...(options.resolver ? { resolver: options.resolver } : {}),
        onDecision: (decision) => emit({ type: "egress", decision }),
      });
    }
    const config: JobConfig = {
      v: PROTOCOL_VERSION,
      ...(egress ? { network: egress.guest } : {}),
      id,
      user: template.user,
      sudo: policy.isolation.sudo,
      limits: { memoryBytes: r.memoryBytes, pids: r.pids, diskBytes: r.diskBytes },
      env: { ...(job.env ?? {}) },
      stopOnFailure: job.stopOnFailure ?? true,
      steps: job.steps.map((s) => ({
        name: s.name,
        argv: [...s.argv],
        env: { ...(s.env ?? {}) },
        workingDirectory: s.workingDirectory ?? ".",
      })),
    };
    const configDir = path.join(dir, "config");
    const configImg = path.join(dir, "config.img");
    journal.record({ kind: "dir", path: configDir });
    journal.record({ kind: "file", path: configImg });
    mkdirSync(configDir, { recursive: true });
    writeFileSync(path.join(configDir, "job.json"), JSON.stringify(config), { mode: 0o600 });
    await execa("mke2fs", [
      "-q",
      "-t",
      "ext4",
      "-O",
      "^has_journal",
      "-L",
      "config",
      "-d",
      configDir,
      configImg,
      "8M",
    ]);
    for (const f of [overlay, workspace, configImg]) chownSync(f, uid, uid);

    const steps: StepResult[] = [];
    const stepNames: string[] = [];
    let breach: Breach | undefined;
    let done = false;
    let agentError: string | undefined;
    let bootMs: number | undefined;
    let peaks: SandboxReport["peaks"] = {};
    const onMessage = (m: AgentMessage): void => {
      switch (m.t) {
        case "hello":
          break;
        case "ready":
          bootMs = now() - started;
          emit({ type: "phase", phase: "ready" });
          break;
        case "step-start":
          stepNames[m.i] = m.name;
          emit({ type: "step-start", index: m.i, name: m.name });
          break;
        case "out":
          emit({
            type: "output",
            index: m.i,
            stream: m.s === "o" ? "stdout" : "stderr",
            text: m.d,
          });
          break;
        case "step-end": {
          const result = {
            name: stepNames[m.i] ?? `step ${m.i}`,
            exitCode: m.code,
            signal: m.signal,
            durationMs: m.ms,
          };
          steps[m.i] = result;
          emit({ type: "step-end", index: m.i, result });
          break;
        }
        case "breach":
          breach ??= {
            kind: m.kind,
            message: breachMessage(m.kind, limitOf(m.kind)),
            limit: limitOf(m.kind),
          };
          break;
        case "peaks":
          peaks = { memoryBytes: m.memoryBytes, pids: m.pids, diskBytes: m.diskBytes };
          break;
        case "error":
          agentError = m.message;
          break;
        case "done":
          done = true;
          break;
        default: {
          const never: never = m;
          throw new Error(`unhandled agent message ${JSON.stringify(never)}`);
        }
      }
    };
    const agentSocket = path.join(dir, "agent.sock");
    journal.record({ kind: "file", path: agentSocket });
    const channel = await listenAgent(agentSocket, owner, onMessage);

    const layout = cgroupLayout(options.cgroupRoot ?? "/sys/fs/cgroup", id);
    for (const d of layout.dirs) journal.record({ kind: "cgroup", path: d });
    createCgroup(layout, {
      cpus: r.cpus,
      memoryBytes: r.memoryBytes + vmmOverheadBytes(options.accel),
      pids: 64, // QEMU's own threads: vCPUs, I/O, RCU; the job's processes live in the guest
    });

    const pidfile = path.join(dir, "qemu.pid");
    const serialLog = path.join(dir, "serial.log");
    journal.record({ kind: "file", path: serialLog });
    writeFileSync(serialLog, "");
    chownSync(serialLog, uid, uid);
    journal.record({ kind: "process", pidfile, match: dir });
    const args = qemuArgs({
      binary: options.qemuBinary ?? "qemu-system-x86_64",
      accel: options.accel,
      cpus: r.cpus,
      memoryMiB: Math.ceil(r.memoryBytes / 2 ** 20),
      kernel: template.kernel,
      initrd: template.initrd,
      rootOverlay: overlay,
      workspace,
      config: configImg,
      serialLog,
      agentSocket,
      ...(egress ? { nic: { tap: egress.tap, mac: egress.guest.mac } } : {}),
    });
    let tunDevice: string | undefined;
    if (egress) {
      tunDevice = path.join(dir, "tun");
      journal.record({ kind: "file", path: tunDevice });
      await execa("mknod", ["-m", "0600", tunDevice, "c", "10", "200"]);
      chownSync(tunDevice, uid, uid);
    }
    const jail = jailCommand({
      ...(tunDevice ? { tunDevice } : {}),
      uid,
      gid: uid,
      groups: options.groups ?? [],
      stateDir,
      sandboxDir: dir,
      templateDir: template.dir,
      cgroupProcs: layout.dirs.map((d) => path.join(d, "cgroup.procs")),
      command: [options.qemuBinary ?? "qemu-system-x86_64", ...args],
    });
    emit({ type: "phase", phase: "boot" });
    // With a network, QEMU lives in the sandbox's namespace, where its tap is; nsenter execs, so
    // the recorded pid is still QEMU's.
    const launch = egress
      ? { file: "nsenter", args: [`--net=${egress.netnsPath}`, "--", jail.file, ...jail.args] }
      : jail;
    const child = spawn(launch.file, launch.args, { stdio: ["ignore", "ignore", "pipe"] });
    writeFileSync(pidfile, String(child.pid ?? ""));
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => {
      if (stderr.length < 16_384) stderr += c.toString();
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, r.timeoutSeconds * 1000);
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    clearTimeout(timer);
    channel.close();
    const droppedPackets = egress ? await egress.dropped() : undefined;
    await egress?.close();

    emit({ type: "phase", phase: "collect" });
    const host = cgroupStats(layout);
    const console = existsSync(serialLog) ? readFileSync(serialLog, "utf8") : "";
    if (console) emit({ type: "console", text: console });
    if (timedOut)
      breach = {
        kind: "timeout",
        message: breachMessage("timeout", r.timeoutSeconds),
        limit: r.timeoutSeconds,
      };
    else if (!breach && host.oomKills > 0)
      breach = {
        kind: "memory",
        message: breachMessage("memory", r.memoryBytes),
        limit: r.memoryBytes,
      };

    let error: string | undefined;
    if (!breach && !done) {
      error =
        agentError ??
        `the VM stopped before the job finished (qemu exit ${exit.code ?? exit.signal})` +
          (stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : "") +
          // The console is gone with the sandbox: keep its end, where a guest says why it died.
          (console.trim()
            ? `\nlast console lines:\n${console.trim().split("\n").slice(-15).join("\n")}`
            : "");
    }
    const failed = steps.some((s) => s.exitCode !== 0);
    const outcome = breach ? "limit" : error ? "infrastructure" : failed ? "failure" : "success";
    const exitStatus = breach
      ? EXIT_STATUS[breach.kind]
      : error
        ? EXIT_STATUS.infrastructure
        : failed
          ? EXIT_STATUS.failure
          : EXIT_STATUS.success;
    return {
      id,
      backend: `vm (${options.accel})`,
      outcome,
      exitStatus,
      ...(breach ? { breach } : {}),
      steps: steps.filter(Boolean),
      peaks,
      limits: {
        cpus: r.cpus,
        memoryBytes: r.memoryBytes,
        diskBytes: r.diskBytes,
        pids: r.pids,
        timeoutSeconds: r.timeoutSeconds,
      },
      timings: { ...(bootMs === undefined ? {} : { bootMs }), totalMs: now() - started },
      ...(error ? { error } : {}),
      ...(egress
        ? {
            egress: {
              mode: policy.network.mode,
              allowed: egress.decisions().filter((d) => d.verdict === "allow").length,
              denied: egress.decisions().filter((d) => d.verdict === "deny").length,
              decisions: egress.decisions(),
              ...(droppedPackets ? { droppedPackets } : {}),
            },
          }
        : {}),
    };
  }

  return { id, run, destroy };
}
