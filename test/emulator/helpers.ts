// Shared set-up for the GitHub emulator's own tests (test/support/github-emulator is a stand-in
// for GitHub's servers; these tests hold it to GitHub's shapes and behaviour).
import { generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Octokit } from "@octokit/rest";
import { createAppAuth } from "@octokit/auth-app";
import { startGithubEmulator } from "../support/github-emulator/index.js";
import type { EmulatorOptions, GithubEmulator } from "../support/github-emulator/index.js";

export const TOKEN = "ghp_emulatortesttoken000000000000000000";
export const REPO = { owner: "octo-org", repo: "app" } as const;
export const APP_ID = 4242;
export const INSTALLATION_ID = 77;

export function startEmulator(options: Partial<EmulatorOptions> = {}): Promise<GithubEmulator> {
  return startGithubEmulator({ listen: { host: "127.0.0.1", port: 0 }, token: TOKEN, ...options });
}

/** An Octokit without retries or throttling: every reply reaches the test as GitHub sent it. */
export function tokenClient(emulator: GithubEmulator, auth: string | null = TOKEN): Octokit {
  return new Octokit({ baseUrl: emulator.url, ...(auth === null ? {} : { auth }), log: quiet });
}

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function appKeys(): { privateKey: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

/** Octokit as a GitHub App: App JWT for /app routes, installation token (if given) elsewhere. */
export function appClient(
  emulator: GithubEmulator,
  privateKey: string,
  installationId?: number,
): Octokit {
  return new Octokit({
    baseUrl: emulator.url,
    authStrategy: createAppAuth,
    auth: {
      appId: APP_ID,
      privateKey,
      ...(installationId === undefined ? {} : { installationId }),
    },
    log: quiet,
  });
}

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A webhook receiver that records what arrives and answers `status()` (202 by default). */
export async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  status: { code: number };
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const status = { code: 202 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(status.code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    status,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** POST to the emulator's runner protocol (what the stand-in runner does with curl). */
export async function runnerPost(
  emulator: GithubEmulator,
  path: string,
  body: string,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${emulator.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

/** The parts of a JIT blob, decoded. */
export function decodeJit(blob: string): {
  runner: {
    agentId: number;
    agentName: string;
    serverUrl: string;
    poolId: number;
    workFolder: string;
  };
  credentials: {
    scheme: string;
    data: { clientId: string; authorizationUrl: string; token: string };
  };
  rsa: Record<string, string>;
} {
  const outer = JSON.parse(Buffer.from(blob, "base64").toString()) as Record<string, string>;
  const part = (key: string) => JSON.parse(Buffer.from(outer[key]!, "base64").toString()) as never;
  return {
    runner: part(".runner"),
    credentials: part(".credentials"),
    rsa: part(".credentials_rsaparams"),
  };
}

/** Registers a JIT runner for REPO and returns its id, token and blob. */
export async function jitRunner(
  emulator: GithubEmulator,
  name: string,
  labels: string[],
): Promise<{ id: number; token: string; blob: string }> {
  const { data } = await tokenClient(emulator).rest.actions.generateRunnerJitconfigForRepo({
    ...REPO,
    name,
    labels,
    runner_group_id: 1,
  });
  const blob = data.encoded_jit_config;
  return { id: data.runner.id, token: decodeJit(blob).credentials.data.token, blob };
}

/** What the stand-in sends to acquire a job. */
export function acquireBody(runner: { id: number; token: string }): string {
  return JSON.stringify({
    agentId: runner.id,
    credentials: { scheme: "OAuth", data: { token: runner.token } },
  });
}

/** An Octokit RequestError, as far as these tests look at it. */
export interface Failure {
  readonly status: number;
  readonly response?: { data: unknown; headers: Record<string, string | number | undefined> };
}

/** The error a request fails with (the test fails if it succeeds). */
export async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    if (typeof (error as Failure).status !== "number") throw error;
    return error as Failure;
  }
  throw new Error("expected the request to fail");
}
