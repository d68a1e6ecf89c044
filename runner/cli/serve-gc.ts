/**
 * One service per state folder, and the GitHub half of `sandboxed gc`: runners a killed service
 * registered and never deleted. The service's pid file tells a live service (whose runners are
 * its own business) from a dead one (whose runners are all leftovers).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus as hostCpus, hostname } from "node:os";
import path from "node:path";
import { loadServiceConfig, readSecretFile } from "../config/index.js";
import type { ServiceConfig } from "../config/index.js";
import { SandboxedError } from "../errors/index.js";
import { createGithubClient } from "../github/index.js";
import type { GithubAuth } from "../github/index.js";
import { createScheduler } from "../scheduler/index.js";
import { processStartTime } from "../sandbox/index.js";
import type { Io } from "./main.js";
import { githubJobSource } from "./serve-source.js";

const pidFile = (stateDir: string): string => path.join(stateDir, "serve", "service.json");

/** The pid of a live service on this state folder, if there is one. */
export function liveService(stateDir: string): number | undefined {
  const file = pidFile(stateDir);
  if (!existsSync(file)) return undefined;
  try {
    const owner = JSON.parse(readFileSync(file, "utf8")) as { pid: number; startTime: string };
    return processStartTime(owner.pid) === owner.startTime ? owner.pid : undefined;
  } catch {
    return undefined;
  }
}

/** Claim the state folder for this process; refuse when another service holds it. */
export function claimStateDir(stateDir: string, configFile: string): () => void {
  const other = liveService(stateDir);
  if (other !== undefined && other !== process.pid) {
    throw new SandboxedError(
      "SBX_CLI_SERVE_RUNNING",
      `another sandboxed serve (pid ${other}) uses the state folder ${stateDir}`,
      { hint: `stop it first (systemctl stop sandboxed), or give ${configFile} another stateDir` },
    );
  }
  mkdirSync(path.dirname(pidFile(stateDir)), { recursive: true, mode: 0o700 });
  writeFileSync(
    pidFile(stateDir),
    `${JSON.stringify({ pid: process.pid, startTime: processStartTime(process.pid) ?? "" })}\n`,
  );
  return () => rmSync(pidFile(stateDir), { force: true });
}

export function githubAuth(config: ServiceConfig): GithubAuth {
  const auth = config.github.auth;
  return auth.kind === "app"
    ? {
        kind: "app",
        appId: auth.appId,
        privateKey: readSecretFile(auth.privateKeyFile),
        ...(auth.installationId ? { installationId: auth.installationId } : {}),
      }
    : { kind: "token", token: readSecretFile(auth.tokenFile) };
}

/** The runner name prefix: ours on this host, so gc never deletes another host's runners. */
export function runnerPrefix(host = hostname()): string {
  const short = host
    .split(".")[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .slice(0, 20);
  return `sbx-${short}-`;
}

/** `sandboxed gc --config FILE`: delete the runners a dead service left registered. */
export async function removeStrayRunners(io: Io, configFile: string): Promise<number> {
  const config = loadServiceConfig(configFile, { hostCpus: hostCpus().length });
  const live = liveService(config.stateDir);
  if (live !== undefined) {
    io.stdout(`runners: kept (sandboxed serve pid ${live} is running and owns them)\n`);
    return 0;
  }
  const client = createGithubClient({ apiUrl: config.github.apiUrl, auth: githubAuth(config) });
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const scheduler = createScheduler({
    stateDir: config.stateDir,
    source: githubJobSource(client, config.scope, {
      runnerGroupId: config.runnerGroupId,
      app: config.github.auth.kind === "app",
    }),
    labelSets: config.labelSets,
    capacity: { sandboxes: 1, cpus: 1, memoryBytes: 1 },
    reconcileIntervalMs: config.reconcile.intervalMs,
    runnerPrefix: runnerPrefix(),
    idleTimeoutMs: config.idleTimeoutMs,
    preparePolicy: () => Promise.reject(new Error("gc runs no job")),
    guestRunner: () => {
      throw new Error("gc runs no job");
    },
    createSandbox: () => {
      throw new Error("gc runs no job");
    },
    openLog: () => ({ append: () => undefined, writeJson: () => undefined }),
    log: silent,
    now: Date.now,
    newId: () => "gc",
  });
  const removed = await scheduler.removeStrayRunners();
  for (const name of removed) io.stdout(`removed runner ${name}\n`);
  if (removed.length === 0) io.stdout(`runners: none left under ${runnerPrefix()}*\n`);
  return 0;
}
