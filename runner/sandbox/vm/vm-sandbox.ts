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
 *  6. run                stream agent messages; a boot that stalls is retried once on fresh
 *                        disks; the timeout runs from ready (vm-attempt.ts)
 *  7. collect            serial log, cgroup counters, report
 *  8. destroy            remove everything recorded, newest first (always reached)
 */
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { execa } from "execa";
import { startSandboxEgress } from "../../network/index.js";
import type { Resolver, SandboxEgress } from "../../network/index.js";
import {
  breachOf as breachOfPolicy,
  cgroupLayout,
  cgroupStats,
  createCgroup,
  createJobState,
  composeReport,
  createJournal,
  destroyRecorded,
  jobConfig,
  stageWorkspace,
} from "../index.js";
import type { Breach, JobSpec, Sandbox, SandboxOptions, SandboxReport } from "../index.js";
import { vmmOverheadBytes } from "./breach.js";

import { allocateUid, jailCommand } from "./jail.js";
import { qemuArgs } from "./qemu-args.js";
import type { Accel } from "./qemu-args.js";
import type { VmTemplate } from "./template.js";
import { runAttempt } from "./vm-attempt.js";
import type { Attempt } from "./vm-attempt.js";
import { chownDisks, createConfigDisk, createJobDisks, diskPaths } from "./vm-disks.js";

function consoleTail(serialLog: string): string {
  const text = existsSync(serialLog) ? readFileSync(serialLog, "utf8") : "";
  return text.trim().split("\n").slice(-15).join("\n");
}

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
  /** How long a guest may take to say ready before its boot is retried (default 120 s TCG). */
  readonly bootTimeoutMs?: number;
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
    await destroyRecorded(journal, emit, () => egress?.close());
  }

  async function run(job: JobSpec): Promise<SandboxReport> {
    const started = now();
    const r = policy.resources;
    const dir = journal.dir;
    const breachOf = (kind: Breach["kind"]): Breach => breachOfPolicy(policy, kind);
    emit({ type: "phase", phase: "create" });

    const uid = allocateUid(stateDir, id, (_uid, lock) =>
      journal.record({ kind: "lock", path: lock, owner: id }),
    );
    const owner = { uid, gid: uid };
    // The folder stays root's: QEMU may use the files it is given, not delete the journal.
    chmodSync(dir, 0o711);

    const disks = diskPaths(dir);
    journal.record({ kind: "file", path: disks.overlay });
    journal.record({ kind: "file", path: disks.workspace });
    const filesDir = await stageWorkspace(journal, job, template.user);

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
    const config = jobConfig({
      id,
      policy,
      user: template.user,
      job,
      ...(egress ? { network: egress.guest } : {}),
    });
    await createConfigDisk(journal, disks, JSON.stringify(config));

    const agentSocket = path.join(dir, "agent.sock");
    journal.record({ kind: "file", path: agentSocket });
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
    journal.record({ kind: "process", pidfile, match: dir });
    let tunDevice: string | undefined;
    if (egress) {
      tunDevice = path.join(dir, "tun");
      journal.record({ kind: "file", path: tunDevice });
      await execa("mknod", ["-m", "0600", tunDevice, "c", "10", "200"]);
      chownSync(tunDevice, uid, uid);
    }
    const args = qemuArgs({
      binary: options.qemuBinary ?? "qemu-system-x86_64",
      accel: options.accel,
      cpus: r.cpus,
      memoryMiB: Math.ceil(r.memoryBytes / 2 ** 20),
      kernel: template.kernel,
      initrd: template.initrd,
      rootOverlay: disks.overlay,
      workspace: disks.workspace,
      config: disks.config,
      serialLog,
      agentSocket,
      ...(egress ? { nic: { tap: egress.tap, mac: egress.guest.mac } } : {}),
    });
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
    // With a network, QEMU lives in the sandbox's namespace, where its tap is; nsenter execs, so
    // the recorded pid is still QEMU's.
    const launch = egress
      ? { file: "nsenter", args: [`--net=${egress.netnsPath}`, "--", jail.file, ...jail.args] }
      : jail;

    const bootDeadlineMs = options.bootTimeoutMs ?? (options.accel === "kvm" ? 60_000 : 120_000);
    let attempt: Attempt | undefined;
    let bootMs: number | undefined;
    let driverError: string | undefined;
    let driverVerdict: "success" | "failure" | undefined;
    for (let n = 1; n <= 2; n++) {
      await createJobDisks(disks, template, r.diskBytes, filesDir);
      chownDisks(disks, uid);
      writeFileSync(serialLog, "");
      chownSync(serialLog, uid, uid);
      emit({ type: "phase", phase: "boot", ...(n > 1 ? { detail: "retry" } : {}) });
      const bootStarted = now();
      attempt = await runAttempt({
        launch,
        pidfile,
        agentSocket,
        owner,
        bootDeadlineMs,
        timeoutMs: r.timeoutSeconds * 1000,
        makeState: (send, onReady) =>
          createJobState({
            firstExec: job.steps.length,
            emit,
            send,
            breachOf,
            now,
            onReady: () => {
              bootMs = now() - bootStarted;
              onReady();
            },
          }),
        ...(job.drive
          ? {
              drive: async (state, end) => {
                try {
                  driverVerdict = await job.drive!(state.control);
                } catch (error) {
                  driverError = (error as Error).message;
                } finally {
                  end();
                }
              },
            }
          : {}),
      });
      if (!attempt.bootStalled) break;
      // A guest that never says ready is the host's problem, not the job's: once more, fresh.
      const tail = consoleTail(serialLog);
      emit({
        type: "phase",
        phase: "boot",
        detail: `no ready after ${bootDeadlineMs / 1000}s; console: ${tail.split("\n").slice(-3).join(" | ")}`,
      });
    }
    const { state, exit, stderr, timedOut, bootStalled } = attempt!;
    const droppedPackets = egress ? await egress.dropped() : undefined;
    await egress?.close();

    emit({ type: "phase", phase: "collect" });
    const host = cgroupStats(layout);
    const console = existsSync(serialLog) ? readFileSync(serialLog, "utf8") : "";
    if (console) emit({ type: "console", text: console });
    let breach = state.breach;
    if (timedOut) breach = breachOf("timeout");
    else if (!breach && host.oomKills > 0) breach = breachOf("memory");

    let error: string | undefined;
    if (!breach && bootStalled) {
      error = `the guest did not boot within ${bootDeadlineMs / 1000}s, twice`;
    } else if (!breach && driverError) {
      error = driverError;
    } else if (!breach && !state.done) {
      error =
        state.agentError ??
        `the VM stopped before the job finished (qemu exit ${exit.code ?? exit.signal})` +
          (stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : "");
    }
    // The console is gone with the sandbox: keep its end, where a guest says why it died.
    if (error && console.trim()) error += `\nlast console lines:\n${consoleTail(serialLog)}`;
    return composeReport({
      id,
      backend: `vm (${options.accel})`,
      policy,
      state,
      breach,
      error,
      driven: job.drive !== undefined,
      driverVerdict,
      timings: { ...(bootMs === undefined ? {} : { bootMs }), totalMs: now() - started },
      ...(egress ? { egress: { decisions: egress.decisions(), droppedPackets } } : {}),
    });
  }

  return { id, run, destroy };
}
