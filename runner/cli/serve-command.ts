/**
 * `sandboxed serve`: the service. Wires the config, GitHub (client, webhooks, reconcile), the
 * scheduler, VM sandboxes with the official runner, job logs and metrics (issue 6). Start-up does
 * everything that can fail on bad input first (config, secrets, policies, templates), so a
 * mistake stops the service before it takes a job.
 */
import { cpus as hostCpus } from "node:os";
import type { Command } from "commander";
import { Option } from "commander";
import { loadServiceConfig, readSecretFile } from "../config/index.js";
import type { ServiceConfig } from "../config/index.js";
import { createGithubClient } from "../github/index.js";
import {
  createJobLogStore,
  createLogger,
  LOG_LEVELS,
  renderJobLog,
  renderJobLogList,
} from "../logs/index.js";
import type { LogLevel } from "../logs/index.js";
import { createMetrics, metricsRecorder } from "../metrics/index.js";
import { loadCeilings, loadPolicy } from "../policy/index.js";
import type { ResolvedCeilings, ResolvedPolicy } from "../policy/index.js";
import { createScheduler } from "../scheduler/index.js";
import type { JobRecord, Scheduler } from "../scheduler/index.js";
import { collectGarbage } from "../sandbox/index.js";
import { ensureRunnerTemplate, RUNNER_HOOK_ENV } from "../sandbox/vm/index.js";
import { prepareBackend } from "./backends.js";
import type { SandboxMaker } from "./backends.js";
import type { RunnerTemplate } from "../sandbox/vm/index.js";
import type { Io } from "./main.js";
import { loadOptions, readTextOrUndefined } from "./policy-files.js";
import { ensureTemplate, newId, requireRoot, upstreamResolver } from "./sandbox-commands.js";
import { githubJobSource } from "./serve-source.js";
import { claimStateDir, githubAuth, runnerPrefix } from "./serve-gc.js";
import { startServeHttp } from "./serve-http.js";

export const DEFAULT_CONFIG = "/etc/sandboxed/sandboxed.yml";
const REPO_POLICY = ".github/sandbox-policy.yml";

interface ServeOptions {
  readonly config: string;
  readonly accel: "auto" | "kvm" | "tcg";
  readonly logLevel: LogLevel;
  readonly dnsServer?: string;
}

/** Every label set's policy, bounded by the ops ceilings, read once at start. */
function labelSetPolicies(
  config: ServiceConfig,
  ceilings: ResolvedCeilings | undefined,
): Map<string, ResolvedPolicy> {
  const policies = new Map<string, ResolvedPolicy>();
  for (const set of config.labelSets) {
    const { policy } = loadPolicy(set.policy, {
      ...loadOptions(),
      ...(ceilings ? { ceilings } : {}),
    });
    policies.set(set.name, policy);
  }
  return policies;
}

/**
 * The repository's own policy from its default branch, bounded by the ceilings. It may extend
 * presets only: a repository must not make the host read its other files.
 */
function repoPolicy(
  repo: string,
  text: string,
  ceilings: ResolvedCeilings | undefined,
): ResolvedPolicy {
  const base = loadOptions();
  const file = `${repo}/${REPO_POLICY}`;
  const presets = `${base.presetDir}/`;
  const readFile = (f: string): string | undefined =>
    f === file ? text : f.startsWith(presets) ? readTextOrUndefined(f) : undefined;
  return loadPolicy(file, { ...base, readFile, ...(ceilings ? { ceilings } : {}) }).policy;
}

export async function serve(io: Io, opts: ServeOptions): Promise<number> {
  requireRoot("serve");
  const config = loadServiceConfig(opts.config, { hostCpus: hostCpus().length });
  const log = createLogger({ level: opts.logLevel, base: { service: "sandboxed" } });
  const webhookSecret = config.webhook ? readSecretFile(config.webhook.secretFile) : undefined;
  const auth = githubAuth(config);
  const ceilings = config.ceilings ? loadCeilings(config.ceilings, loadOptions()) : undefined;
  const policies = labelSetPolicies(config, ceilings);
  const stateDir = config.stateDir;
  const release = claimStateDir(stateDir, config.file);

  // Templates with the official runner, one per template name in use.
  const templates = new Map<string, RunnerTemplate>();
  for (const name of new Set(config.labelSets.map((s) => s.template))) {
    const base = await ensureTemplate(io, stateDir, name);
    templates.set(
      name,
      await ensureRunnerTemplate({
        stateDir,
        base,
        ...(config.runner?.tarball ? { tarball: config.runner.tarball } : {}),
        ...(config.runner?.sha256 ? { sha256: config.runner.sha256 } : {}),
        onProgress: (line) => {
          if (line.startsWith("==> ")) io.stderr(`[template ${name}+runner] ${line.slice(4)}\n`);
        },
      }),
    );
  }
  const resolver = opts.dnsServer ? upstreamResolver(opts.dnsServer) : undefined;
  // One sandbox maker per label set: its backend, on its template (VM probe or Docker image once).
  const makers = new Map<string, SandboxMaker>();
  for (const set of config.labelSets) {
    makers.set(
      set.name,
      await prepareBackend(io, {
        backend: set.backend,
        stateDir,
        template: templates.get(set.template)!,
        accel: opts.accel,
        policy: policies.get(set.name)!,
        dockerSocket: config.docker?.socket,
        resolver,
      }),
    );
  }

  // What a killed service left: sandboxes first (their owner is dead), runners at scheduler start.
  const recovered = await collectGarbage(stateDir);
  if (recovered.removed.length > 0)
    log.warn({ sandboxes: recovered.removed }, "removed sandboxes a stopped service left");

  const metrics = createMetrics();
  const recorder = metricsRecorder(metrics);
  const client = createGithubClient({
    apiUrl: config.github.apiUrl,
    auth,
    log: log.child({ area: "github" }),
    onApiError: (status) => recorder.githubApiError(status),
  });
  const jobLogs = createJobLogStore({ dir: config.logs.dir, retentionMs: config.logs.retentionMs });
  const setOf = new Map(config.labelSets.map((s) => [s.name, s]));

  const scheduler: Scheduler = createScheduler({
    stateDir,
    source: githubJobSource(client, config.scope, {
      runnerGroupId: config.runnerGroupId,
      app: config.github.auth.kind === "app",
    }),
    labelSets: config.labelSets,
    capacity: {
      sandboxes: config.capacity.sandboxes,
      cpus: config.capacity.cpus ?? Number.MAX_SAFE_INTEGER,
      memoryBytes: config.capacity.memoryBytes ?? Number.MAX_SAFE_INTEGER,
    },
    reconcileIntervalMs: config.reconcile.intervalMs,
    runnerPrefix: runnerPrefix(),
    idleTimeoutMs: config.idleTimeoutMs,
    ...(config.hooksDir ? { hooksDir: config.hooksDir } : {}),
    async preparePolicy(record: JobRecord) {
      const set = setOf.get(record.labelSet)!;
      if (!set.repoPolicy) return policies.get(set.name)!;
      const text = await client.readRepoFile(record.job.repo, REPO_POLICY);
      return text === undefined
        ? policies.get(set.name)!
        : repoPolicy(record.job.repo, text, ceilings);
    },
    guestRunner: (labelSet) => ({
      dir: templates.get(setOf.get(labelSet)!.template)!.runner.dir,
      hookEnv: RUNNER_HOOK_ENV,
    }),
    createSandbox: (request) =>
      makers.get(request.labelSet)!(request.id, request.policy, request.onEvent),
    openLog: (record) =>
      jobLogs.open(String(record.job.id), {
        repo: record.job.repo,
        runId: record.job.runId,
        runAttempt: record.job.runAttempt,
        jobName: record.job.name,
        workflowName: record.job.workflowName,
        labels: record.job.labels,
        labelSet: record.labelSet,
        htmlUrl: record.job.htmlUrl,
        headSha: record.job.headSha,
        queuedAt: record.queuedAt,
        ...(record.sandboxId ? { sandboxId: record.sandboxId } : {}),
        ...(record.runnerName ? { runnerName: record.runnerName } : {}),
        ...(record.deliveryId ? { deliveryId: record.deliveryId } : {}),
      }),
    metrics: recorder,
    log: log.child({ area: "scheduler" }),
    now: Date.now,
    newId,
  });

  const http = await startServeHttp({
    config,
    ...(webhookSecret ? { webhookSecret: webhookSecret.reveal() } : {}),
    scheduler,
    metrics,
    scope: config.scope,
    log,
  });
  await scheduler.start();
  jobLogs.prune();
  const prune = setInterval(() => jobLogs.prune(), 3_600_000);
  prune.unref();
  io.stderr(
    `[serve] ready: ${config.labelSets.map((s) => `[${s.labels.join(", ")}] → ${s.name}`).join("; ")}` +
      `; capacity ${config.capacity.sandboxes}; ${http.describe()}\n`,
  );
  log.info(
    {
      labelSets: config.labelSets.map((s) => s.name),
      backends: config.labelSets.map((s) => s.backend),
    },
    "serving",
  );

  // SIGTERM drains: no new job, running ones finish (or hit their timeout), then exit 0. A
  // second signal stops at once; what is left, the next start removes.
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      const again = (): void => {
        log.warn({}, "second signal: stopping now; the next start cleans up");
        process.exit(130);
      };
      process.once("SIGTERM", again);
      process.once("SIGINT", again);
      log.info({ signal, running: scheduler.status().running }, "draining");
      io.stderr(`[serve] ${signal}: draining ${scheduler.status().running} running job(s)\n`);
      void http
        .stopIntake()
        .then(() => scheduler.drain())
        .then(() => http.close())
        .then(resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  clearInterval(prune);
  release();
  log.info({}, "drained; bye");
  return 0;
}

export function registerServeCommand(
  program: Command,
  io: Io,
  setExit: (code: number) => void,
): void {
  program
    .command("serve")
    .description(
      "Take runs-on: sandboxed jobs from GitHub and run each once in a fresh VM with the official runner (needs root).",
    )
    .option("-c, --config <file>", "the service config", DEFAULT_CONFIG)
    .addOption(
      new Option("--accel <accel>", "VM accelerator")
        .choices(["auto", "kvm", "tcg"])
        .default("auto"),
    )
    .addOption(
      new Option("--log-level <level>", "JSON log level").choices([...LOG_LEVELS]).default("info"),
    )
    .addOption(new Option("--dns-server <addr>").hideHelp())
    .action(async (opts: ServeOptions) => setExit(await serve(io, opts)));

  program
    .command("logs [job]")
    .description(
      "Show what the service kept of a job (outcome, summary, console, runner, egress), or list recent jobs.",
    )
    .option("-c, --config <file>", "the service config (for its logs folder)", DEFAULT_CONFIG)
    .option(
      "--files <names>",
      "only these files, comma-separated (console.log,runner.log,egress.jsonl,report.json)",
    )
    .action((job: string | undefined, opts: { config: string; files?: string }) => {
      const config = loadServiceConfig(opts.config, { hostCpus: hostCpus().length });
      const store = createJobLogStore({
        dir: config.logs.dir,
        retentionMs: config.logs.retentionMs,
      });
      if (job === undefined) {
        io.stdout(renderJobLogList(store.list()));
      } else {
        const files = opts.files?.split(",").map((f) => f.trim()) as never;
        io.stdout(renderJobLog(store.read(job), files ? { files } : {}));
      }
      setExit(0);
    });
}
