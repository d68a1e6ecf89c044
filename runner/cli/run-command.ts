/**
 * `sandboxed run [WORKFLOW]`: a workflow's jobs, each in a fresh VM under the repository's
 * policy, with live logs and a report. Composes repo facts (run-repo.ts), the engine, the policy
 * and the VM backend; everything the engine cannot run is refused before any VM boots.
 */
import { randomInt } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { SandboxedError } from "../errors/index.js";
import {
  createActionCache,
  createJobInstanceRunner,
  guestLayout,
  hashFilesOnHost,
  loadWorkflow,
  planJobs,
  prepareActions,
  runWorkflow,
} from "../engine/index.js";
import type {
  JobInstance,
  LoadedWorkflow,
  Plan,
  RunReport,
  WorkflowStep,
} from "../engine/index.js";
import { decideEgress, loadPolicy } from "../policy/index.js";
import type { ResolvedPolicy } from "../policy/index.js";
import { collectGarbage, EXIT_STATUS } from "../sandbox/index.js";
import { DEFAULT_DOCKER_SOCKET } from "../sandbox/container/index.js";
import { prepareBackend } from "./backends.js";
import type { BackendName } from "./backends.js";
import type { Accel } from "../sandbox/vm/index.js";
import type { Io } from "./main.js";
import { loadOptions } from "./policy-files.js";
import { createRunRenderer, renderRunReport } from "./run-render.js";
import {
  checkoutFiles,
  defaultPayload,
  parsePairs,
  pickPolicy,
  pickWorkflow,
  readDotenv,
  readEventFile,
  repoInfo,
  repoRoot,
} from "./run-repo.js";
import {
  ensureTemplate,
  newId,
  requireRoot,
  stateDirOf,
  upstreamResolver,
} from "./sandbox-commands.js";

export interface RunOptions {
  directory?: string;
  job?: string;
  matrix?: string[];
  policy?: string;
  backend?: BackendName;
  dockerSocket: string;
  event?: string;
  eventFile?: string;
  input?: string[];
  var?: string[];
  secretFile?: string;
  envFile?: string;
  json?: boolean;
  report?: string;
  template: string;
  accel: "auto" | Accel;
  dnsServer?: string;
  stateDir?: string;
  githubApiUrl: string;
  offline?: boolean;
  includeIgnored?: boolean;
  maxParallel?: string;
  debug?: boolean;
  verbose?: boolean;
  list?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** At most as many VMs as the host has cores and memory for, by the policy's own size. */
export function hostCapacity(
  resources: { readonly cpus: number; readonly memoryBytes: number },
  host = { cpus: os.cpus().length, memoryBytes: os.totalmem() },
): number {
  const byCpu = Math.floor(host.cpus / resources.cpus);
  // 512 MiB per VM for QEMU itself (TCG's code cache included): see docs/benchmarks.md.
  const byMemory = Math.floor((host.memoryBytes * 0.8) / (resources.memoryBytes + 512 * 2 ** 20));
  return Math.max(1, Math.min(byCpu, byMemory));
}

function usesOf(steps: readonly WorkflowStep[]) {
  return steps.flatMap((s) => (s.kind === "uses" ? [s] : []));
}

export async function runCommand(
  io: Io,
  workflowArg: string | undefined,
  opts: RunOptions,
): Promise<number> {
  // -C: that folder is the repository (as make -C / git -C), even inside another checkout.
  const root = opts.directory ? path.resolve(io.cwd, opts.directory) : await repoRoot(io.cwd);
  if (!existsSync(root))
    throw new SandboxedError("SBX_CLI_NO_FILES", `no folder ${root}`, {
      hint: "-C names the repository's folder",
    });
  const file = await pickWorkflow(io, root, workflowArg);
  const rel = path.relative(root, file).split(path.sep).join("/");
  // Refusals come first: a workflow we cannot run never boots a VM.
  const workflow = await loadWorkflow(
    rel.startsWith("..") ? file : rel,
    readFileSync(file, "utf8"),
  );
  const plan = planJobs(workflow, {
    ...(opts.job ? { job: opts.job } : {}),
    ...(opts.matrix?.length ? { matrixFilter: parsePairs("--matrix", opts.matrix) } : {}),
  });
  if (opts.list) {
    io.stdout(listPlan(workflow, plan));
    return 0;
  }
  const policyFile = pickPolicy(io, root, opts.policy);
  const { policy } = loadPolicy(policyFile, loadOptions());
  const secrets = opts.secretFile ? readDotenv(path.resolve(io.cwd, opts.secretFile)) : {};
  const env = opts.envFile ? readDotenv(path.resolve(io.cwd, opts.envFile)) : {};
  const inputs = parsePairs("--input", opts.input ?? []);
  const vars = parsePairs("--var", opts.var ?? []);
  const eventName = opts.event ?? "push";

  const maxParallel = opts.maxParallel ? Number(opts.maxParallel) : hostCapacity(policy.resources);
  if (!Number.isInteger(maxParallel) || maxParallel < 1)
    throw new SandboxedError(
      "SBX_CLI_USAGE",
      `--max-parallel ${opts.maxParallel}: not a whole number of jobs`,
      {
        hint: "--max-parallel 2",
      },
    );
  requireRoot("run");
  const stateDir = stateDirOf(io, opts.stateDir);
  const recovered = await collectGarbage(stateDir);
  if (recovered.removed.length > 0)
    io.stderr(`[sandboxed] removed what killed runs left: ${recovered.removed.join(", ")}\n`);

  const info = await repoInfo(root);
  const payload: unknown = opts.eventFile
    ? readEventFile(path.resolve(io.cwd, opts.eventFile))
    : defaultPayload(eventName, info, inputs);
  // A --secret-file or --env-file inside the repository is never copied into the VM.
  const private_ = [opts.secretFile, opts.envFile].flatMap((f) =>
    f ? [path.relative(root, path.resolve(io.cwd, f))] : [],
  );
  const files = opts.includeIgnored
    ? undefined
    : (await checkoutFiles(root))?.filter((f) => !private_.includes(f));
  const layout = guestLayout(info.repository);
  const copied = new Set(files ?? []);
  // The policy as the user knows it: .github/sandbox-policy.yml, or the shipped file's path.
  const shownPolicy = policyFile.startsWith(root + path.sep)
    ? path.relative(root, policyFile)
    : path.relative(io.cwd, policyFile);
  const renderer = createRunRenderer(io, {
    json: opts.json === true,
    policyFile: shownPolicy,
    verbose: opts.verbose === true,
  });
  const jobs = plan.stages.flat();
  const cache = opts.offline
    ? undefined
    : createActionCache({
        cacheDir: path.join(stateDir, "actions"),
        apiUrl: opts.githubApiUrl,
        fetch: (url, init) => fetch(url, init),
        decide: (host, port) => {
          const v = decideEgress(policy.network, { host, port });
          const rule = v.rule
            ? `${v.rule.source.file}:${v.rule.source.line}:${v.rule.source.col}`
            : undefined;
          return { allowed: v.verdict === "allow", reason: v.reason, ...(rule ? { rule } : {}) };
        },
        onDecision: (d) =>
          renderer.note(`[actions] ${d.verdict} ${d.host}:${d.port} (${d.reason})`),
        ...(secrets.GITHUB_TOKEN ? { token: secrets.GITHUB_TOKEN } : {}),
      });
  const prepared = await prepareActions(
    jobs.flatMap((j) => usesOf(j.steps).map((s) => s.action)),
    { repoRoot: root, layout, cache },
  );

  const template = await ensureTemplate(io, stateDir, opts.template);
  const resolver = opts.dnsServer ? upstreamResolver(opts.dnsServer) : undefined;
  const makeSandbox = await prepareBackend(io, {
    backend: opts.backend,
    stateDir,
    template,
    accel: opts.accel,
    policy,
    dockerSocket: opts.dockerSocket,
    resolver,
  });
  const controller = new AbortController();
  const onSignal = () => {
    renderer.note(
      "[sandboxed] cancelling: steps with always() still run, then every sandbox is destroyed",
    );
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const jobPolicy = (instance: JobInstance): ResolvedPolicy => ({
    ...policy,
    resources: {
      ...policy.resources,
      // timeout-minutes can only shorten the policy's cap, never lengthen it.
      timeoutSeconds: Math.min(
        policy.resources.timeoutSeconds,
        Math.round(instance.timeoutMinutes * 60),
      ),
    },
  });
  let report: RunReport;
  try {
    report = await runWorkflow({
      workflow,
      plan,
      contexts: { github: { event_name: eventName }, vars, secrets, inputs },
      maxParallel,
      evalOptions: { file: workflow.file },
      emit: renderer.event,
      now: Date.now,
      signal: controller.signal,
      runJob: createJobInstanceRunner({
        workflow,
        repo: { ...info, files, hasGitDir: existsSync(path.join(root, ".git")) },
        layout,
        event: { name: eventName, payload },
        vars,
        secrets,
        inputs,
        env,
        actions: prepared,
        runId: randomInt(1_000_000, 9_999_999),
        debug: opts.debug === true,
        hashFiles: (patterns) =>
          hashFilesOnHost(root, patterns, {
            guestRoot: layout.workspace,
            ...(files ? { only: copied } : {}),
          }),
        emit: renderer.event,
        now: Date.now,
        createSandbox: (instance, onEvent) => makeSandbox(newId(), jobPolicy(instance), onEvent),
      }),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  if (opts.report)
    writeFileSync(path.resolve(io.cwd, opts.report), `${JSON.stringify(report, null, 2)}\n`);
  if (opts.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stderr(renderRunReport(report, { policyFile: shownPolicy }));
  return exitStatusOf(report);
}

/** `--list`: the jobs that would run, in order, without running anything (no root needed). */
function listPlan(workflow: LoadedWorkflow, plan: Plan): string {
  const jobs = plan.stages.flat();
  const width = Math.max(...jobs.map((j) => j.id.length));
  const lines = [
    `${workflow.file}${workflow.name ? ` (${workflow.name})` : ""} · ${jobs.length} job${jobs.length === 1 ? "" : "s"}`,
    ...plan.stages.flatMap((stage, i) =>
      stage.map((j) => {
        const steps = `${j.steps.length} step${j.steps.length === 1 ? "" : "s"}`;
        const extra = [
          j.strategy ? "matrix" : "",
          j.needs.length ? `needs ${j.needs.map((n) => n.id).join(", ")}` : "",
        ].filter(Boolean);
        return `  ${String(i + 1).padStart(2)}  ${j.id.padEnd(width)}  ${steps.padEnd(9)}  ${extra.join(" · ")}`.trimEnd();
      }),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

/** 0 success, 1 a failed step, a breach's own status when a cap stopped a job, 70 otherwise. */
export function exitStatusOf(report: RunReport): number {
  if (report.result === "success") return EXIT_STATUS.success;
  const breach = report.jobs.find((j) => j.sandbox?.breach)?.sandbox?.breach;
  if (breach) return EXIT_STATUS[breach.kind];
  if (report.jobs.some((j) => j.sandbox?.outcome === "infrastructure"))
    return EXIT_STATUS.infrastructure;
  return EXIT_STATUS.failure;
}

export function registerRunCommand(
  program: Command,
  io: Io,
  setExit: (code: number) => void,
): void {
  program
    .command("run")
    .description(
      "Run a workflow's jobs locally, each in a fresh VM under the repository's policy, with live logs and a report.",
    )
    .argument(
      "[workflow]",
      "workflow file, or its name in .github/workflows/ (default: the only one)",
    )
    .option(
      "-C, --directory <dir>",
      "the repository's folder (default: the git checkout around the current folder)",
    )
    .option("-j, --job <id>", "run this job and the jobs it needs")
    .option("-l, --list", "list the jobs that would run, in order, and stop")
    .option(
      "--matrix <key=value>",
      "only matrix combinations with this value (repeatable)",
      collect,
    )
    .option(
      "--policy <file>",
      "policy (default: .github/sandbox-policy.yml, else the shipped default)",
    )
    .addOption(
      new Option(
        "--backend <backend>",
        "sandbox backend (default: the policy's isolation.backend, else vm)",
      ).choices(["vm", "container"]),
    )
    .option(
      "--docker-socket <path>",
      "Docker daemon of the container backend",
      DEFAULT_DOCKER_SOCKET,
    )
    .option("--event <name>", "event that triggers the run (github.event_name)", "push")
    .option("--event-file <file>", "event payload JSON (github.event)")
    .option("--input <key=value>", "workflow_dispatch input (repeatable)", collect)
    .option("--var <key=value>", "configuration variable, vars.* (repeatable)", collect)
    .option("--secret-file <file>", "NAME=value lines: secrets.* (masked in every log)")
    .option("--env-file <file>", "NAME=value lines: environment for every step")
    .option("--json", "print the run report as JSON on stdout")
    .option("--report <file>", "also write the run report as JSON to this file")
    .option("--template <name>", "guest template", "default")
    .addOption(
      new Option("--accel <accel>", "accelerator").choices(["auto", "kvm", "tcg"]).default("auto"),
    )
    .option(
      "--include-ignored",
      "copy files .gitignore ignores too (default: what a checkout holds)",
    )
    .option("--offline", "refuse remote actions instead of fetching them")
    .option(
      "--github-api-url <url>",
      "where remote actions are resolved and fetched",
      "https://api.github.com",
    )
    .option("--max-parallel <n>", "jobs at once (default: what the host's cores and memory fit)")
    .option("--debug", "step debug logging (::debug:: lines, RUNNER_DEBUG=1)")
    .option("-v, --verbose", "every log line on a terminal too (default there: a compact view)")
    .addOption(
      new Option(
        "--dns-server <ip>",
        "upstream resolver for the egress proxy and DNS filter",
      ).hideHelp(),
    )
    .addOption(
      new Option(
        "--state-dir <dir>",
        "where templates and sandbox records live (env SANDBOXED_STATE_DIR)",
      ),
    )
    .action(async (workflow: string | undefined, opts: RunOptions) => {
      setExit(await runCommand(io, workflow, opts));
    });
}
