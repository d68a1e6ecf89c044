/**
 * The `sandboxed` command line. The only place that reads argv and the environment and prints
 * (STYLE H2). Each command is a thin wire between areas.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { SandboxedError } from "../errors/index.js";
import {
  lintPolicyFile,
  loadCeilings,
  policyJsonSchema,
  PolicyError,
  suggestPolicy,
} from "../policy/index.js";
import { lintExitCode, runLint } from "./lint-command.js";
import { FORMATS, renderGithub, renderJson, renderSarif, renderText } from "./lint-report.js";
import type { Format } from "./lint-report.js";
import { DEFAULT_POLICY_PATH, loadOptions, packageRoot } from "./policy-files.js";
import { renderError } from "./render-error.js";
import { registerRunCommand } from "./run-command.js";
import { registerSandboxCommands } from "./sandbox-commands.js";
import { registerServeCommand } from "./serve-command.js";
import { doctorCommand } from "./doctor-command.js";
import { showJson, showYaml } from "./show-policy.js";

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly isTty: boolean;
}

const defaultIo = (): Io => ({
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  cwd: process.cwd(),
  env: process.env,
  isTty: Boolean(process.stdout.isTTY),
});

export function version(): string {
  const pkg = JSON.parse(readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

function intArg(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError("expected a whole number.");
  return Number(value);
}

export function buildProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command("sandboxed")
    .description(
      "Run GitHub Actions jobs in fresh, throwaway, policy-bound sandboxes; lint sandbox policies.",
    )
    .version(version(), "-V, --version")
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  const policy = program
    .command("policy")
    .description("Check, explain and export sandbox policy files.");

  policy
    .command("lint")
    .description("Check policy and ceilings files; findings point at file:line:col with a fix.")
    .argument("[paths...]", "files, folders or globs", [DEFAULT_POLICY_PATH])
    .option("--ceilings <file>", "ops ceilings the policies must stay within")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("text"))
    .option("--max-warnings <n>", "fail when there are more warnings than this", intArg)
    .option("--no-color", "plain text output")
    .addHelpText(
      "after",
      "\nExit status: 0 no errors, 1 errors (or too many warnings), 2 bad usage or unreadable input.\n" +
        "Rules: docs/policy.md#lint-rules\n",
    )
    .action(
      async (
        paths: string[],
        opts: { ceilings?: string; format: Format; maxWarnings?: number; color: boolean },
      ) => {
        const run = await runLint({ paths, ceilings: opts.ceilings, cwd: io.cwd });
        const out =
          opts.format === "json"
            ? renderJson(run.findings, run.summary, io.cwd)
            : opts.format === "github"
              ? renderGithub(run.findings, io.cwd)
              : opts.format === "sarif"
                ? renderSarif(run.findings, io.cwd, version())
                : renderText(run.findings, run.summary, {
                    cwd: io.cwd,
                    color: opts.color && io.isTty && io.env.NO_COLOR === undefined,
                  });
        io.stdout(out);
        setExit(lintExitCode(run.summary, opts.maxWarnings));
      },
    );

  policy
    .command("show")
    .description(
      "Print the fully resolved policy: extends merged, defaults filled, units in normal form.",
    )
    .argument("<file>", "policy file")
    .option(
      "--json",
      "JSON with base units (bytes, bits/s, seconds) and where each value came from",
    )
    .option("--ceilings <file>", "ceilings to check against (defaults are lowered to them)")
    .action((file: string, opts: { json?: boolean; ceilings?: string }) => {
      const load = loadOptions();
      const abs = path.resolve(io.cwd, file);
      if (load.readFile(abs) === undefined) {
        throw new SandboxedError("SBX_CLI_NO_FILES", `no policy file at ${file}`, {
          hint: `create it, or run: sandboxed policy show ${path.relative(io.cwd, path.join(packageRoot(), "policies", "default.yml"))}`,
        });
      }
      const ceilings = opts.ceilings
        ? loadCeilings(path.resolve(io.cwd, opts.ceilings), load)
        : undefined;
      const result = lintPolicyFile(abs, { ...load, ...(ceilings ? { ceilings } : {}) });
      if (!result.resolved) throw new PolicyError(file, result.findings);
      if (opts.json) io.stdout(showJson(result.resolved, io.cwd));
      else if (result.resolved.kind === "Policy") io.stdout(showYaml(result.resolved, io.cwd));
      else io.stdout(showJson(result.resolved, io.cwd));
    });

  policy
    .command("suggest")
    .description(
      "Write the smallest allowlist policy that lets a job pass, from its log (run it once in network.mode: audit).",
    )
    .argument(
      "<job-log>",
      "a job log of egress decision lines, or a report from sandbox exec --report or run --report",
    )
    .option(
      "--extends <presets>",
      "comma-separated presets to extend; what they cover is left out",
      "github-actions",
    )
    .option("-o, --output <file>", "write the policy here instead of standard output")
    .action((logFile: string, opts: { extends: string; output?: string }) => {
      const load = loadOptions();
      const text = load.readFile(path.resolve(io.cwd, logFile));
      if (text === undefined) {
        throw new SandboxedError("SBX_CLI_NO_FILES", `no job log at ${logFile}`, {
          hint: "pass the log of a run made with network.mode: audit",
        });
      }
      const names = opts.extends.split(",").filter((n) => n !== "");
      const presets = names.map((name) => {
        if (!load.presetNames.includes(name)) {
          throw new SandboxedError("SBX_CLI_PRESET", `no preset ${name}`, {
            hint: `presets: ${load.presetNames.join(", ")}`,
          });
        }
        const r = lintPolicyFile(path.join(load.presetDir, `${name}.yml`), load);
        return { name, allow: r.resolved?.network.allow ?? [] };
      });
      const s = suggestPolicy({ log: text, extendsPresets: presets });
      if (opts.output) {
        writeFileSync(path.resolve(io.cwd, opts.output), s.yaml);
        io.stderr(
          `wrote ${opts.output}: ${s.destinations} destination(s); ${s.skippedByPresets} connection(s) already covered by ${names.join(", ") || "no preset"}\n`,
        );
      } else {
        io.stdout(s.yaml);
      }
    });

  policy
    .command("schema")
    .description("Print the JSON Schema of policy files (policies/policy.schema.json).")
    .action(() => {
      io.stdout(`${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
    });

  registerRunCommand(program, io, setExit);
  registerSandboxCommands(program, io, setExit);
  registerServeCommand(program, io, setExit);
  doctorCommand(program, io, setExit);
  return program;
}

export async function main(argv: readonly string[], io: Io = defaultIo()): Promise<number> {
  let code = 0;
  try {
    const program = buildProgram(io, (c) => {
      code = c;
    });
    if (argv.length === 0) {
      io.stdout(program.helpInformation());
      return 0;
    }
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr(renderError(error));
    return 2;
  }
}
