/**
 * The container backend: one fresh container per job, from the template's image, under a
 * hardened runtime (runsc here, sysbox-runc where installed), held to the policy's caps and
 * removed without a trace. Lifecycle (docs/sandbox-lifecycle.md, "Container backend"):
 *
 *  1. daemon + runtime   ask the daemon what it has; refuse runc unless the policy names it
 *  2. image              the template's root, imported once per hash (image.ts)
 *  3. workspace          ext4 of exactly the disk cap, loop-mounted on the host (recorded)
 *  4. container          created (recorded first), attached, started: the agent waits for its
 *                        config on standard input
 *  5. network            the sandbox's veth moved into the container's namespace, or none
 *  6. run                config, then the agent's messages; the timeout runs from ready; the
 *                        host watches the container's cgroup for OOM kills
 *  7. collect + destroy  the report; everything recorded removed, newest first
 */
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { execa } from "execa";
import type Docker from "dockerode";
import { startSandboxEgress } from "../../network/index.js";
import type { Resolver, SandboxEgress } from "../../network/index.js";
import type { HostMessage, JobConfig } from "../../guest/index.js";
import {
  agentLineReader,
  breachOf,
  cgroupLayout,
  cgroupStats,
  composeReport,
  createJobState,
  createJournal,
  destroyRecorded,
  jobConfig,
  formatWorkspace,
  stageWorkspace,
} from "../index.js";
import type {
  Breach,
  JobSpec,
  JobState,
  Sandbox,
  SandboxOptions,
  SandboxReport,
} from "../index.js";
import { containerSpec, needsSudoBroker } from "./container-spec.js";
import {
  connectDocker,
  containerStartError,
  daemonFacts,
  DEFAULT_DOCKER_SOCKET,
} from "./docker.js";
import { ensureImage } from "./image.js";
import type { ImageSource } from "./image.js";
import { backendLabel, checkRuntimeArgs, chooseRuntime, rootWritable } from "./runtime.js";
import { SUDO_SHIM } from "./sudo-shim.js";

export interface ContainerSandboxOptions extends SandboxOptions {
  readonly image: ImageSource;
  /** The Docker daemon's socket (default /run/sandboxed/docker.sock). */
  readonly dockerSocket?: string;
  readonly cgroupRoot?: string;
  readonly now?: () => number;
  readonly resolver?: Resolver;
  /** How long the agent may take to say ready (default 60 s). */
  readonly readyTimeoutMs?: number;
  /** Image import progress (first use of a template on a daemon). */
  readonly onProgress?: (line: string) => void;
}

/** Often enough to see the host pids guard refuse a fork before runsc dies of it (~0.5 s). */
const WATCH_MS = 100;

export function createContainerSandbox(options: ContainerSandboxOptions): Sandbox {
  const { id, policy, stateDir, image } = options;
  const now = options.now ?? Date.now;
  const emit = options.onEvent ?? (() => undefined);
  const socket = options.dockerSocket ?? DEFAULT_DOCKER_SOCKET;
  const journal = createJournal(stateDir, id);
  let destroyed = false;
  let egress: SandboxEgress | undefined;

  async function destroy(): Promise<void> {
    if (destroyed) return;
    destroyed = true;
    await destroyRecorded(journal, emit, () => egress?.close());
  }

  /** The workspace image, loop-mounted at <dir>/workspace, with tmp/ and home/ for the binds. */
  async function workspace(job: JobSpec): Promise<string> {
    const filesDir = await stageWorkspace(journal, job, image.user);
    mkdirSync(path.join(filesDir, "tmp"), { recursive: true });
    chmodSync(path.join(filesDir, "tmp"), 0o1777);
    const home = path.join(filesDir, "home");
    mkdirSync(home, { recursive: true });
    // The root is read-only, so the job user's home lives on the workspace: seeded with the
    // template's (dotfiles, and the actions runner of a `+runner` template, which writes into
    // its own folder), so it counts against the disk cap like everything else the job writes.
    await execa("unshare", [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'd=$(mktemp -d) && mount -o loop,ro,nodev,nosuid "$1" "$d" && ' +
        'if [ -d "$d/home/$2" ]; then cp -a "$d/home/$2/." "$3/"; fi',
      "sh",
      image.rootImage,
      image.user.name,
      home,
    ]);
    chownSync(home, image.user.uid, image.user.gid);
    const img = path.join(journal.dir, "workspace.img");
    journal.record({ kind: "file", path: img });
    await formatWorkspace(img, policy.resources.diskBytes, filesDir, image.user);
    const mnt = path.join(journal.dir, "workspace");
    journal.record({ kind: "dir", path: mnt });
    mkdirSync(mnt);
    journal.record({ kind: "mount", path: mnt });
    await execa("mount", ["-o", "loop,nodev,nosuid", img, mnt]);
    return mnt;
  }

  /** Identity files bound read-only: a fresh machine-id, hosts, resolv.conf, no sudoers. */
  function identity(sudoShim: boolean): string {
    const etc = path.join(journal.dir, "etc");
    journal.record({ kind: "dir", path: etc });
    mkdirSync(etc);
    writeFileSync(path.join(etc, "machine-id"), `${randomBytes(16).toString("hex")}\n`);
    writeFileSync(path.join(etc, "hosts"), "127.0.0.1 localhost\n127.0.1.1 sandbox\n");
    writeFileSync(path.join(etc, "resolv.conf"), "");
    writeFileSync(path.join(etc, "no-sudo"), "");
    for (const f of ["machine-id", "hosts", "resolv.conf", "no-sudo"])
      chmodSync(path.join(etc, f), 0o644);
    if (sudoShim) writeFileSync(path.join(etc, "sudo"), SUDO_SHIM, { mode: 0o755 });
    return etc;
  }

  async function run(job: JobSpec): Promise<SandboxReport> {
    const started = now();
    emit({ type: "phase", phase: "create" });
    const docker = connectDocker(socket);
    const facts = await daemonFacts(docker, socket);
    const choice = chooseRuntime(policy.isolation.runtime, Object.keys(facts.runtimeArgs), socket);
    if (!choice.hardened) {
      emit({
        type: "phase",
        phase: "create",
        detail: `runtime ${choice.runtime} is NOT HARDENED: the job shares the host kernel with no barrier beyond namespaces and seccomp`,
      });
    }
    const runtimeArgs = facts.runtimeArgs[choice.runtime] ?? [];
    checkRuntimeArgs(choice, runtimeArgs, socket);
    const { tag } = await ensureImage(docker, image, options.onProgress);
    const mnt = await workspace(job);
    const sudoBroker = needsSudoBroker(choice.runtime, policy.isolation.sudo);
    const etc = identity(sudoBroker);

    journal.record({ kind: "container", socket, name: id });
    const container = await docker
      .createContainer(
        containerSpec({
          id,
          image: tag,
          runtime: choice.runtime,
          policy,
          user: image.user,
          workspace: mnt,
          etc,
          rootWritable: rootWritable(choice.runtime, policy.isolation.sudo, runtimeArgs),
        }),
      )
      .catch((error: unknown) => {
        throw containerStartError("create", choice.runtime, error);
      });
    const stream = (await container.attach({
      stream: true,
      stdin: true,
      stdout: true,
      stderr: true,
      hijack: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void };
    stream.on("error", () => undefined);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    docker.modem.demuxStream(stream, stdout, stderr);
    let consoleText = "";
    stderr.setEncoding("utf8");
    stderr.on("data", (text: string) => {
      if (consoleText.length < 64 * 1024) consoleText += text;
    });

    let bootMs: number | undefined;
    const bootStarted = now();
    let onReady: () => void = () => undefined;
    const send = (message: HostMessage | JobConfig): boolean => {
      if (!stream.writable) return false;
      stream.write(`${JSON.stringify(message)}\n`);
      return true;
    };
    const state = createJobState({
      firstExec: job.steps.length,
      emit,
      send,
      breachOf: (kind) => breachOf(policy, kind),
      now,
      onReady: () => {
        bootMs = now() - bootStarted;
        onReady();
      },
    });
    const reader = agentLineReader((m) => state.onMessage(m));
    stdout.setEncoding("utf8");
    stdout.on("data", (text: string) => reader.push(text));

    emit({ type: "phase", phase: "boot" });
    // next-exit: called before start, the default (not-running) would return at once.
    const exited = (
      container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>
    ).catch(() => ({ StatusCode: -1 }));
    await container.start().catch((error: unknown) => {
      throw containerStartError("start", choice.runtime, error);
    });
    const info = await container.inspect();
    if (policy.network.mode !== "none") {
      egress = await startSandboxEgress({
        id,
        stateDir,
        journal,
        network: policy.network,
        containerPid: info.State.Pid,
        ...(options.resolver ? { resolver: options.resolver } : {}),
        onDecision: (decision) => emit({ type: "egress", decision }),
      });
      // Same inode, so the read-only bind inside sees it.
      writeFileSync(
        path.join(etc, "resolv.conf"),
        `nameserver ${egress.guest.dns}\noptions timeout:2 attempts:2\n`,
      );
    }
    const config = jobConfig({
      id,
      policy,
      user: image.user,
      job,
      ...(egress ? { network: egress.guest } : {}),
      sudoBroker,
      // Under runsc the job user's uid is the sandbox's alone, so RLIMIT_NPROC is the job's cap.
      nprocLimit: choice.runtime === "runsc",
    });
    send(config);

    const outcome = await watch(container, info.Id, exited, state, job, send, (fn) => {
      onReady = fn;
    });
    stream.destroy();
    const droppedPackets = egress ? await egress.dropped() : undefined;
    await egress?.close();

    emit({ type: "phase", phase: "collect" });
    if (consoleText.trim()) emit({ type: "console", text: consoleText });
    let breach: Breach | undefined = state.breach;
    if (outcome.timedOut) breach = breachOf(policy, "timeout");
    else if (!breach && outcome.oom) breach = breachOf(policy, "memory");
    else if (!breach && outcome.pidsGuard) breach = breachOf(policy, "pids");
    let error: string | undefined;
    const readySeconds = (options.readyTimeoutMs ?? 60_000) / 1000;
    if (!breach && outcome.readyStalled) {
      error = `the container's agent did not say ready within ${readySeconds}s`;
    } else if (!breach && outcome.driverError) {
      error = outcome.driverError;
    } else if (!breach && !state.done) {
      error =
        state.agentError ??
        `the container stopped before the job finished (exit ${outcome.exitCode})` +
          (consoleText.trim() ? `: ${consoleText.trim().split("\n").slice(-3).join(" | ")}` : "");
    }
    return composeReport({
      id,
      backend: backendLabel(choice),
      policy,
      state,
      breach,
      error,
      driven: job.drive !== undefined,
      driverVerdict: outcome.driverVerdict,
      timings: { ...(bootMs === undefined ? {} : { bootMs }), totalMs: now() - started },
      peaks: {
        ...state.peaks,
        ...(outcome.memoryPeak === undefined ? {} : { memoryBytes: outcome.memoryPeak }),
      },
      ...(egress ? { egress: { decisions: egress.decisions(), droppedPackets } } : {}),
    });
  }

  interface WatchOutcome {
    readonly exitCode: number;
    readonly timedOut: boolean;
    readonly readyStalled: boolean;
    readonly oom: boolean;
    /** The host's pids guard refused a fork: the job outran the agent's count (L34). */
    readonly pidsGuard: boolean;
    readonly memoryPeak: number | undefined;
    readonly driverVerdict: "success" | "failure" | undefined;
    readonly driverError: string | undefined;
  }

  /**
   * Until the container exits: a ready deadline, then the job's timeout from ready; the
   * container's cgroup polled for OOM kills and its memory peak (it goes with the container);
   * the engine's driver, if any, run once ready and followed by `end`.
   */
  async function watch(
    container: Docker.Container,
    fullId: string,
    exited: Promise<{ StatusCode: number }>,
    state: JobState,
    job: JobSpec,
    send: (message: HostMessage) => boolean,
    setOnReady: (fn: () => void) => void,
  ): Promise<WatchOutcome> {
    const layout = cgroupLayout(options.cgroupRoot ?? "/sys/fs/cgroup", fullId);
    let timedOut = false;
    let readyStalled = false;
    let oom = false;
    let pidsGuard = false;
    let memoryPeak: number | undefined;
    let driverVerdict: "success" | "failure" | undefined;
    let driverError: string | undefined;
    let driving: Promise<void> | undefined;
    const kill = (): void => void container.kill().catch(() => undefined);
    const sample = (): void => {
      const stats = cgroupStats(layout);
      if (stats.memoryPeakBytes !== undefined) memoryPeak = stats.memoryPeakBytes;
      if (stats.oomKills > 0 && !oom) {
        oom = true;
        kill();
      }
      if (stats.pidsRefused > 0 && !pidsGuard) {
        pidsGuard = true;
        kill();
      }
    };
    const readyTimer = setTimeout(() => {
      readyStalled = true;
      kill();
    }, options.readyTimeoutMs ?? 60_000);
    let jobTimer: NodeJS.Timeout | undefined;
    setOnReady(() => {
      clearTimeout(readyTimer);
      jobTimer = setTimeout(() => {
        timedOut = true;
        kill();
      }, policy.resources.timeoutSeconds * 1000);
      if (job.drive) {
        driving = (async () => {
          try {
            driverVerdict = await job.drive!(state.control);
          } catch (error) {
            driverError = (error as Error).message;
          } finally {
            send({ t: "end" });
          }
        })();
      }
    });
    const poll = setInterval(sample, WATCH_MS);
    const exit = await exited;
    clearInterval(poll);
    clearTimeout(readyTimer);
    clearTimeout(jobTimer);
    sample();
    try {
      const inspected = await container.inspect();
      if (inspected.State.OOMKilled) oom = true;
    } catch {
      // removed under us (gc): nothing more to learn
    }
    state.abandon(
      timedOut
        ? "the job's timeout was reached"
        : "the container stopped while a command was running",
    );
    await driving;
    return {
      exitCode: exit.StatusCode,
      timedOut,
      readyStalled,
      oom,
      pidsGuard,
      memoryPeak,
      driverVerdict,
      driverError,
    };
  }

  return { id, run, destroy };
}
