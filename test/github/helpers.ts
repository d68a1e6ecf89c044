// Shared set-up of the GitHub client tests: an emulator (test/support/github-emulator), a client
// with test-speed backoff, and what the client logged and counted.
import { generateKeyPairSync } from "node:crypto";
import { createGithubClient } from "../../runner/github/index.js";
import type { GithubAuth, GithubClient, GithubLog } from "../../runner/github/index.js";
import { isSandboxedError } from "../../runner/errors/index.js";
import { startGithubEmulator } from "../support/github-emulator/index.js";
import type { EmulatorOptions, GithubEmulator } from "../support/github-emulator/index.js";

export const TOKEN = "ghp_sandboxedTestToken0000000000000000";
export const APP_ID = 4242;
export const INSTALLATION_ID = 77;

let keys: { privateKey: string; publicKey: string } | undefined;
/** One RSA key pair per test file (generating one costs a fraction of a second). */
export function appKeys(): { privateKey: string; publicKey: string } {
  keys ??= generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  return keys;
}

export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  obj: object;
  msg: string | undefined;
}

export interface World {
  emulator: GithubEmulator;
  client: GithubClient;
  lines: LogLine[];
  apiErrors: number[];
}

export async function startWorld(
  kind: "token" | "app",
  options: Partial<EmulatorOptions> & { installationId?: number } = {},
): Promise<World> {
  const emulator = await startGithubEmulator({
    listen: { host: "127.0.0.1", port: 0 },
    ...(kind === "token"
      ? { token: TOKEN }
      : {
          app: {
            appId: APP_ID,
            installationId: INSTALLATION_ID,
            publicKeyPem: appKeys().publicKey,
          },
        }),
    ...options,
  });
  const lines: LogLine[] = [];
  const apiErrors: number[] = [];
  const line =
    (level: LogLine["level"]) =>
    (obj: object, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  const log: GithubLog = {
    debug: line("debug"),
    info: line("info"),
    warn: line("warn"),
    error: line("error"),
  };
  const auth: GithubAuth =
    kind === "token"
      ? { kind: "token", token: TOKEN }
      : {
          kind: "app",
          appId: APP_ID,
          privateKey: appKeys().privateKey,
          ...(options.installationId === undefined
            ? {}
            : { installationId: options.installationId }),
        };
  const client = createGithubClient({
    apiUrl: emulator.url,
    auth,
    log,
    retries: 3,
    minRetryDelayMs: 1,
    minWriteIntervalMs: 0,
    onApiError: (status) => apiErrors.push(status),
  });
  return { emulator, client, lines, apiErrors };
}

/** The SandboxedError a promise rejects with, as {code, message, hint}. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string; hint: string | undefined }> {
  try {
    await promise;
  } catch (error) {
    if (isSandboxedError(error))
      return { code: error.code, message: error.message, hint: error.hint };
    throw error;
  }
  throw new Error("expected a rejection");
}

/** The stand-in runner's first step: take a job with the credentials in a JIT blob. */
export async function acquireWith(emulator: GithubEmulator, jitConfig: string): Promise<number> {
  const files = JSON.parse(Buffer.from(jitConfig, "base64").toString()) as Record<string, string>;
  const decode = (name: string) => JSON.parse(Buffer.from(files[name]!, "base64").toString());
  const runner = decode(".runner") as { agentId: number };
  const credentials = decode(".credentials") as unknown;
  const response = await fetch(`${emulator.url}/_runner/acquire`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ agentId: runner.agentId, credentials }),
  });
  return response.status;
}
