/**
 * Developer commands on the sandbox: `template build|list`, `sandbox exec`, `gc`.
 * Wires policy -> template -> VM sandbox and prints what happens.
 */
import { randomBytes } from "node:crypto";
import { Resolver as DnsResolver } from "node:dns/promises";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { Option } from "commander";
import { SandboxedError } from "../errors/index.js";
import { formatDuration, formatSize, loadPolicy } from "../policy/index.js";
import { collectGarbage, EXIT_STATUS } from "../sandbox/index.js";
import type { SandboxEvent, SandboxReport } from "../sandbox/index.js";
import type { Resolver } from "../network/index.js";
import { DEFAULT_DOCKER_SOCKET } from "../sandbox/container/index.js";
import { prepareBackend } from "./backends.js";
import type { BackendName } from "./backends.js";
import {
  buildTemplate,
  ensureRunnerTemplate,
  listRunnerTemplates,
  RUNNER_PIN_FILE,
} from "../sandbox/vm/index.js";
import type { Accel, RunnerTemplate, VmTemplate } from "../sandbox/vm/index.js";
import { approxSize } from "./format.js";
import type { Io } from "./main.js";
import { loadOptions, packageRoot } from "./policy-files.js";
import { removeStrayRunners } from "./serve-gc.js";

export const DEFAULT_STATE_DIR = "/var/lib/sandboxed";

export function stateDirOf(io: Io, flag?: string): string {
  return path.resolve(io.cwd, flag ?? io.env.SANDBOXED_STATE_DIR ?? DEFAULT_STATE_DIR);
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new SandboxedError(
      "SBX_CLI_NOT_ROOT",
      `${what} needs root (cgroups, mount namespaces, per-sandbox uids)`,
      {
        hint: `run it with sudo: sudo sandboxed ${what}`,
      },
    );
  }
}

export async function ensureTemplate(
  io: Io,
  stateDir: string,
  name: string,
  force = false,
): Promise<VmTemplate> {
  const started = Date.now();
  let phase = "";
  const result = await buildTemplate({
    name,
    stateDir,
    root: packageRoot(),
    force,
    onProgress: (line) => {
      const elapsed = `${Math.round((Date.now() - started) / 1000)}s`;
      const clear = io.isTty ? "\r\u001b[2K" : "";
      if (line.startsWith("==> ")) {
        phase = line.slice(4);
        io.stderr(`${clear}[template ${name} ${elapsed}] ${phase}\n`);
      } else if (/^\s+I: /.test(line)) {
        // On a terminal one line updates in place (cut to the terminal's width, or clearing it
        // would leave wrapped rows behind); in CI logs each step gets its own line.
        const text = `[template ${name} ${elapsed}]   ${line.trim()}`;
        const width = (process.stderr.columns || 80) - 1;
        io.stderr(io.isTty ? `${clear}${text.slice(0, width)}` : `${text.slice(0, 140)}\n`);
      }
    },
  });
  if (io.isTty) io.stderr("\r\u001b[2K");
  if (!result.cached)
    io.stderr(
      `[template ${name}] built in ${result.seconds.toFixed(0)}s: ${result.template.dir}\n`,
    );
  return result.template;
}

/** The base template plus the official actions runner and the hooks (issue 6 §4). */
export async function ensureRunnerLayer(
  io: Io,
  stateDir: string,
  base: VmTemplate,
  opts: { runnerTarball?: string; runnerSha256?: string; force?: boolean },
): Promise<RunnerTemplate> {
  const started = Date.now();
  const t = await ensureRunnerTemplate({
    stateDir,
    base,
    root: packageRoot(),
    force: opts.force ?? false,
    ...(opts.runnerTarball ? { tarball: path.resolve(io.cwd, opts.runnerTarball) } : {}),
    ...(opts.runnerSha256 ? { sha256: opts.runnerSha256 } : {}),
    onProgress: (line) => {
      const elapsed = `${Math.round((Date.now() - started) / 1000)}s`;
      if (line.startsWith("==> "))
        io.stderr(`[template ${base.name}+runner ${elapsed}] ${line.slice(4)}\n`);
    },
  });
  if (!t.cached) io.stderr(`[template ${t.name}] actions runner ${t.runner.version}: ${t.dir}\n`);
  return t;
}

/** Names resolved through one upstream server, A and AAAA, instead of the host's resolver. */
export function upstreamResolver(server: string): Resolver {
  const dns = new DnsResolver({ timeout: 3000, tries: 2 });
  dns.setServers([server]);
  return async (name) => {
    const [v4, v6] = await Promise.allSettled([dns.resolve4(name), dns.resolve6(name)]);
    const out = [
      ...(v4.status === "fulfilled" ? v4.value : []),
      ...(v6.status === "fulfilled" ? v6.value : []),
    ];
    if (out.length === 0) throw new Error(`cannot resolve ${name} via ${server}`);
    return out;
  };
}

export function newId(): string {
  return `sbx-${randomBytes(5).toString("hex")}`;
}

function pct(used: number | undefined, cap: number): string {
  return used === undefined ? "n/a" : `${Math.round((used / cap) * 100)}%`;
}

export function renderReport(r: SandboxReport): string {
  const l = r.limits;
  const rows = [
    ["outcome", `${r.outcome}${r.breach ? `: ${r.breach.message}` : ""} (exit ${r.exitStatus})`],
    [
      "backend",
      `${r.backend}; boot ${r.timings.bootMs === undefined ? "n/a" : `${(r.timings.bootMs / 1000).toFixed(1)}s`}, total ${(r.timings.totalMs / 1000).toFixed(1)}s`,
    ],
    [
      "memory",
      `peak ${approxSize(r.peaks.memoryBytes)} of ${formatSize(l.memoryBytes)} (${pct(r.peaks.memoryBytes, l.memoryBytes)})`,
    ],
    [
      "disk",
      `peak ${approxSize(r.peaks.diskBytes)} of ${formatSize(l.diskBytes)} (${pct(r.peaks.diskBytes, l.diskBytes)})`,
    ],
    ["pids", `peak ${r.peaks.pids ?? "n/a"} of ${l.pids}`],
    ["cpus", `${l.cpus}; timeout ${formatDuration(l.timeoutSeconds)}`],
    ...r.steps.map((s, i) => [
      `step ${i + 1}`,
      `${s.name}: ${s.exitCode === null ? `killed (${s.signal})` : `exit ${s.exitCode}`} in ${(s.durationMs / 1000).toFixed(1)}s`,
    ]),
    ...(r.egress
      ? [
          [
            "egress",
            `${r.egress.mode}: ${r.egress.allowed} allowed, ${r.egress.denied} denied` +
              (r.egress.droppedPackets && Object.values(r.egress.droppedPackets).some((n) => n > 0)
                ? `; dropped on the host side: ${Object.entries(r.egress.droppedPackets)
                    .filter(([, n]) => n > 0)
                    .map(([k, n]) => `${n} packets (${k})`)
                    .join(", ")}`
                : ""),
          ],
          ...r.egress.decisions
            .filter((d) => d.verdict === "deny" || d.wouldDeny)
            .slice(0, 20)
            .map((d) => [
              "",
              `${d.wouldDeny ? "would deny" : "denied"} ${d.kind} ${d.host}${d.port ? `:${d.port}` : ""} (${d.reason})`,
            ]),
        ]
      : []),
    ...(r.error ? [["error", r.error]] : []),
  ];
  return `── sandbox ${r.id} ──\n${rows.map(([k, v]) => `  ${k!.padEnd(8)} ${v}`).join("\n")}\n`;
}

interface TemplateBuildFlags {
  force?: boolean;
  stateDir?: string;
  withRunner?: boolean;
  runnerTarball?: string;
  runnerSha256?: string;
}

export function registerSandboxCommands(
  program: Command,
  io: Io,
  setExit: (code: number) => void,
): void {
  const stateOption = () =>
    new Option(
      "--state-dir <dir>",
      "where templates and sandbox records live (env SANDBOXED_STATE_DIR)",
    );

  const template = program
    .command("template")
    .description("Build and list guest templates (vm-templates/).");
  template
    .command("build")
    .description(
      "Build a guest template from Debian packages; cached until its definition changes.",
    )
    .argument("[name]", "template name (a file in vm-templates/)", "default")
    .option("--force", "rebuild even when cached")
    .option("--with-runner", "also build <name>+runner: the official actions runner and hooks/")
    .option("--runner-tarball <file>", "a local actions-runner tarball (implies --with-runner)")
    .option("--runner-sha256 <hex>", "accept this tarball sum instead of the pinned one")
    .addOption(stateOption())
    .action(async (name: string, opts: TemplateBuildFlags) => {
      requireRoot("template build");
      const stateDir = stateDirOf(io, opts.stateDir);
      let t = await ensureTemplate(io, stateDir, name, opts.force);
      if (opts.withRunner || opts.runnerTarball || opts.runnerSha256) {
        t = await ensureRunnerLayer(io, stateDir, t, opts);
      }
      io.stdout(`${t.name} ${t.hash} ${t.dir}\n`);
    });
  template
    .command("list")
    .description("Templates defined, and which are built.")
    .addOption(stateOption())
    .action((opts: { stateDir?: string }) => {
      const defs = readdirSync(path.join(packageRoot(), "vm-templates")).filter(
        (f) => f.endsWith(".yml") && f !== RUNNER_PIN_FILE,
      );
      const stateDir = stateDirOf(io, opts.stateDir);
      for (const def of defs) {
        const name = def.slice(0, -4);
        const dir = path.join(stateDir, "templates", name);
        const built = existsSync(dir)
          ? readdirSync(dir).filter((d) => !d.endsWith(".partial"))
          : [];
        io.stdout(
          `${name.padEnd(16)} ${built.length > 0 ? `built ${built.join(", ")}` : "not built"}\n`,
        );
        for (const layer of listRunnerTemplates(stateDir, name)) {
          const { runner, base } = layer.manifest;
          io.stdout(
            `${`${name}+runner`.padEnd(16)} built ${layer.hash} (actions runner ${runner.version}, sha256 ${runner.sha256.slice(0, 12)}…, on ${base.hash})\n`,
          );
        }
      }
    });

  const sandbox = program
    .command("sandbox")
    .description("Run commands in a fresh sandbox (developer tools).");
  sandbox
    .command("exec")
    .description(
      "Run one command in a fresh sandbox (VM or container) under a policy; print its output and the resource report.",
    )
    .option("--policy <file>", "policy file", path.join(packageRoot(), "policies", "default.yml"))
    .option("--template <name>", "guest template", "minimal")
    .addOption(
      new Option(
        "--backend <backend>",
        "sandbox backend (default: the policy's isolation.backend)",
      ).choices(["vm", "container"]),
    )
    .addOption(
      new Option("--accel <accel>", "accelerator (vm)")
        .choices(["auto", "kvm", "tcg"])
        .default("auto"),
    )
    .option(
      "--docker-socket <path>",
      "Docker daemon of the container backend",
      DEFAULT_DOCKER_SOCKET,
    )
    .option("--json", "print the report as JSON")
    .option("--report <file>", "also write the report as JSON to this file")
    .option(
      "--dns-server <ip>",
      "upstream resolver for the egress proxy and DNS filter (default: the host's)",
    )
    .addOption(stateOption())
    .argument("<command...>", "the command and its arguments (after --)")
    .action(
      async (
        command: string[],
        opts: {
          policy: string;
          template: string;
          backend?: BackendName;
          accel: "auto" | Accel;
          dockerSocket: string;
          json?: boolean;
          report?: string;
          dnsServer?: string;
          stateDir?: string;
        },
      ) => {
        requireRoot("sandbox exec");
        const stateDir = stateDirOf(io, opts.stateDir);
        const { policy } = loadPolicy(path.resolve(io.cwd, opts.policy), loadOptions());
        // Start-up recovery: what runners killed earlier left behind goes first.
        const recovered = await collectGarbage(stateDir);
        if (recovered.removed.length > 0) {
          io.stderr(`[sandbox] removed what killed runs left: ${recovered.removed.join(", ")}\n`);
        }
        const tpl = await ensureTemplate(io, stateDir, opts.template);
        const resolver = opts.dnsServer ? upstreamResolver(opts.dnsServer) : undefined;
        const makeSandbox = await prepareBackend(io, {
          backend: opts.backend,
          stateDir,
          template: tpl,
          accel: opts.accel,
          policy,
          dockerSocket: opts.dockerSocket,
          resolver,
        });
        const onEvent = (e: SandboxEvent): void => {
          if (e.type === "output") (e.stream === "stdout" ? io.stdout : io.stderr)(e.text);
          else if (e.type === "phase" && !opts.json)
            io.stderr(`[sandbox] ${e.phase}${e.detail ? `: ${e.detail}` : ""}\n`);
          else if (e.type === "egress" && e.decision.verdict === "deny") {
            const d = e.decision;
            io.stderr(
              `[egress] denied ${d.kind} ${d.host}${d.port ? `:${d.port}` : ""}: ${d.reason}\n`,
            );
          }
        };
        const box = makeSandbox(newId(), policy, onEvent);
        let report: SandboxReport;
        try {
          report = await box.run({ steps: [{ name: command.join(" "), argv: command }] });
        } finally {
          await box.destroy();
        }
        io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : "");
        if (opts.report)
          writeFileSync(path.resolve(io.cwd, opts.report), `${JSON.stringify(report, null, 2)}\n`);
        if (!opts.json) io.stderr(renderReport(report));
        setExit(report.exitStatus);
      },
    );

  program
    .command("gc")
    .description(
      "Remove what crashed or killed runs left behind: QEMU processes, disks, cgroups, records.",
    )
    .option("--all", "also remove sandboxes whose runner is still alive")
    .option(
      "-c, --config <file>",
      "also delete GitHub runners a stopped `serve` with this config left registered",
    )
    .addOption(stateOption())
    .action(async (opts: { all?: boolean; stateDir?: string; config?: string }) => {
      requireRoot("gc");
      if (opts.config) await removeStrayRunners(io, path.resolve(io.cwd, opts.config));
      const report = await collectGarbage(stateDirOf(io, opts.stateDir), {
        all: opts.all ?? false,
      });
      for (const id of report.removed) io.stdout(`removed ${id}\n`);
      for (const id of report.skippedLive)
        io.stdout(`kept ${id} (its runner is alive; --all removes it)\n`);
      for (const f of report.failures) io.stderr(`failed ${f.id}: ${f.errors.join("; ")}\n`);
      if (report.removed.length + report.failures.length === 0) io.stdout("nothing to remove\n");
      setExit(report.failures.length > 0 ? EXIT_STATUS.infrastructure : 0);
    });
}
