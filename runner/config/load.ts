/**
 * Loading `sandboxed.yml`: parse with positions, check the schema and the rules across keys,
 * collect every finding, then build the deeply readonly ServiceConfig with paths made absolute,
 * units in ms and bytes, and defaults filled (STYLE H7). The only I/O is reading the file itself,
 * and it is injectable; secrets are never read here (readSecretFile does that).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseSize } from "../policy/index.js";
import { crossChecks } from "./checks.js";
import { configMissing, configUnreadable, ServiceConfigError } from "./errors.js";
import { schemaFindings } from "./issues.js";
import { API_VERSION, CONFIG_KIND } from "./schema.js";
import type { ServiceConfigInput } from "./schema.js";
import type {
  ConfigFinding,
  LabelSetConfig,
  LoadServiceConfigOptions,
  ServiceConfig,
} from "./types.js";
import { parseConfigDuration, parseListen } from "./values.js";
import { collectOrigins, locate, parseConfigYaml } from "./yaml-source.js";
import type { ConfigSource } from "./yaml-source.js";

export const DEFAULTS = {
  apiUrl: "https://api.github.com",
  runnerGroupId: 1,
  template: "default",
  backend: "vm",
  repoPolicy: false,
  webhookPath: "/webhook",
  reconcileInterval: "60s",
  idleTimeout: "5m",
  stateDir: "/var/lib/sandboxed",
  logsDir: "/var/log/sandboxed",
  logsRetention: "14d",
} as const;

/**
 * Load and check a service config. Throws SBX_CONFIG_MISSING when the file does not exist and
 * one SBX_CONFIG_INVALID (a ServiceConfigError) listing every finding otherwise.
 */
export function loadServiceConfig(
  file: string,
  options: LoadServiceConfigOptions = {},
): ServiceConfig {
  const abs = path.resolve(file);
  const text = (options.readFile ?? readTextOrUndefined)(abs);
  if (text === undefined) throw configMissing(abs);
  return parseServiceConfig(abs, text, options);
}

/** Check config text as if it were `file` (absolute). Pure. */
export function parseServiceConfig(
  file: string,
  text: string,
  options: Pick<LoadServiceConfigOptions, "hostCpus"> = {},
): ServiceConfig {
  const source = parseConfigYaml(file, text);
  const findings = [...source.findings, ...validate(source)];
  if (findings.length > 0) throw new ServiceConfigError(file, sortFindings(findings));
  return deepFreeze(build(source, source.data as ServiceConfigInput, options.hostCpus));
}

function validate(source: ConfigSource): ConfigFinding[] {
  if (source.data === undefined) return [];
  const data = source.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    const got = data === null ? "an empty file" : Array.isArray(data) ? "a list" : "a single value";
    return [
      {
        ...locate(source, []),
        message: `a service config must be a mapping of keys; found ${got}`,
        hint: `start from examples/serve/sandboxed.yml, or begin with apiVersion: ${API_VERSION} and kind: ${CONFIG_KIND}`,
      },
    ];
  }
  return [...schemaFindings(source), ...crossChecks(source)];
}

function build(
  source: ConfigSource,
  input: ServiceConfigInput,
  hostCpus: number | undefined,
): ServiceConfig {
  const dir = path.dirname(source.file);
  const abs = (p: string): string => path.resolve(dir, p);
  const ms = (text: string): number => {
    const parsed = parseConfigDuration(text);
    // Unreachable: the schema checked every duration with the same parser.
    if (!parsed.ok) throw new Error(`unchecked duration ${text}`);
    return parsed.ms;
  };
  const listen = (text: string) => {
    const parsed = parseListen(text);
    if (!parsed.ok) throw new Error(`unchecked listen address ${text}`);
    return parsed.value;
  };
  const { app, token } = input.github;
  const labelSets = input.labelSets.map((set, i): LabelSetConfig => ({
    name: set.name,
    labels: set.labels,
    policy: abs(set.policy),
    template: set.template ?? DEFAULTS.template,
    backend: set.backend ?? DEFAULTS.backend,
    repoPolicy: set.repoPolicy ?? DEFAULTS.repoPolicy,
    source: locate(source, ["labelSets", i]),
  }));
  const memory = input.capacity?.memory;
  return {
    file: source.file,
    github: {
      apiUrl: input.github.apiUrl ?? DEFAULTS.apiUrl,
      auth: app
        ? {
            kind: "app",
            appId: app.id,
            privateKeyFile: abs(app.privateKeyFile),
            ...(app.installationId === undefined ? {} : { installationId: app.installationId }),
          }
        : { kind: "token", tokenFile: abs(token!.file) },
    },
    scope: input.scope.organization
      ? { organization: input.scope.organization }
      : { repositories: input.scope.repositories! },
    runnerGroupId: input.runnerGroupId ?? DEFAULTS.runnerGroupId,
    labelSets,
    ...(input.ceilings === undefined ? {} : { ceilings: abs(input.ceilings) }),
    capacity: {
      // One sandbox per two host CPUs: each default policy asks for 2.
      sandboxes: input.capacity?.sandboxes ?? defaultSandboxes(hostCpus),
      ...(input.capacity?.cpus === undefined ? {} : { cpus: input.capacity.cpus }),
      ...(memory === undefined ? {} : { memoryBytes: sizeOf(memory) }),
    },
    ...(input.webhook === undefined
      ? {}
      : {
          webhook: {
            listen: listen(input.webhook.listen),
            path: input.webhook.path ?? DEFAULTS.webhookPath,
            secretFile: abs(input.webhook.secretFile),
          },
        }),
    reconcile: { intervalMs: ms(input.reconcile?.interval ?? DEFAULTS.reconcileInterval) },
    idleTimeoutMs: ms(input.idleTimeout ?? DEFAULTS.idleTimeout),
    stateDir: abs(input.stateDir ?? DEFAULTS.stateDir),
    logs: {
      dir: abs(input.logs?.dir ?? DEFAULTS.logsDir),
      retentionMs: ms(input.logs?.retention ?? DEFAULTS.logsRetention),
    },
    ...(input.metrics === undefined ? {} : { metrics: { listen: listen(input.metrics.listen) } }),
    ...(input.hooksDir === undefined ? {} : { hooksDir: abs(input.hooksDir) }),
    ...(input.docker?.socket === undefined ? {} : { docker: { socket: abs(input.docker.socket) } }),
    ...(input.runner === undefined
      ? {}
      : {
          runner: {
            ...(input.runner.tarball === undefined ? {} : { tarball: abs(input.runner.tarball) }),
            ...(input.runner.sha256 === undefined ? {} : { sha256: input.runner.sha256 }),
          },
        }),
    origins: collectOrigins(source),
  };
}

/** One sandbox per two host CPUs, at least 1; 1 when the caller did not say. */
function defaultSandboxes(hostCpus: number | undefined): number {
  return hostCpus !== undefined && Number.isFinite(hostCpus)
    ? Math.max(1, Math.floor(hostCpus / 2))
    : 1;
}

function sizeOf(text: string): number {
  const parsed = parseSize(text);
  if (!parsed.ok) throw new Error(`unchecked size ${text}`);
  return parsed.value;
}

function sortFindings(findings: readonly ConfigFinding[]): ConfigFinding[] {
  return [...findings].sort((a, b) => a.line - b.line || a.col - b.col);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Read a text file; undefined when it does not exist. */
export function readTextOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw configUnreadable(file, error as NodeJS.ErrnoException);
  }
}
