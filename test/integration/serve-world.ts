/**
 * The world `sandboxed serve` runs in for the end-to-end suite (issue 6):
 *
 *   test process: GitHub emulator (test/support/github-emulator, a stand-in for GitHub's servers)
 *        │ unix socket /run/sbxt-github.sock           ▲ unix socket /run/sbxt-webhook.sock
 *   sbxt-internet: github.test = 93.184.216.40:80 ──┘  │
 *   sbxt-host: the service (`nsenter --net`), webhooks on 127.0.0.1:18080 ◄─┘, its sandboxes
 *
 * The service calls the REST API at http://93.184.216.40; the guests' runner stand-in reaches
 * http://github.test through each sandbox's own egress proxy and DNS filter, under the label
 * set's policy, so the real network path is exercised. Nothing leaves the test namespaces.
 * With `container`, a second label set runs its jobs on the container backend (issue 7): same
 * runner template, imported into the Docker daemon as an image.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { packageRoot } from "../../runner/cli/policy-files.js";
import { startGithubEmulator } from "../support/github-emulator/index.js";
import type { GithubEmulator } from "../support/github-emulator/index.js";
import { buildRunnerStandin } from "../support/runner-standin/pack.js";
import { TEST_STATE_DIR } from "./helpers.js";
import { buildRunnerWorld, HOST_NS, INTERNET, INTERNET_NS, startServer } from "./net-topology.js";
import type { Server } from "./net-topology.js";

const BIN = path.join(packageRoot(), "bin", "sandboxed.js");
export const APP = { appId: 4242, installationId: 77 };
const GITHUB_SOCK = "/run/sbxt-github.sock";
const WEBHOOK_SOCK = "/run/sbxt-webhook.sock";
const WEBHOOK_PORT = 18080;
const METRICS_SOCK = "/run/sbxt-metrics.sock";

export interface ServeWorld {
  readonly emulator: GithubEmulator;
  readonly dir: string;
  readonly configFile: string;
  readonly logDir: string;
  readonly webhookSecret: string;
  /** Start `sandboxed serve` in sbxt-host and wait for its ready line. */
  startService(): Promise<ServiceProcess>;
  /** GET a path of the service's metrics listener: status and body. */
  getMetrics(path: string): Promise<{ status: number; body: string }>;
  /** Post raw bytes to the service's webhook listener, as GitHub would (or a forger). */
  postWebhook(body: string, headers: Record<string, string>): Promise<number>;
  teardown(): Promise<void>;
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  /** Everything the service printed so far (stderr and the JSON log). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A second label set on the container backend (issue 7), with its Docker daemon's socket. */
export interface ContainerLabelSet {
  readonly labels: readonly string[];
  readonly dockerSocket: string;
}

export async function buildServeWorld(options: {
  readonly capacity: number;
  readonly policy: string;
  readonly container?: ContainerLabelSet;
}): Promise<ServeWorld> {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-serve-"));
  // Job records of an earlier (killed) run would name this emulator's job ids: start afresh.
  rmSync(path.join(TEST_STATE_DIR, "serve"), { recursive: true, force: true });
  const teardownNet = await buildRunnerWorld();
  const servers: Server[] = [];
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const webhookSecret = randomBytes(16).toString("hex");
  const emulator = await startGithubEmulator({
    listen: { path: GITHUB_SOCK },
    publicUrl: "http://github.test",
    webhook: {
      url: `http://127.0.0.1:${WEBHOOK_PORT}/webhook`,
      socketPath: WEBHOOK_SOCK,
      secret: webhookSecret,
    },
    app: { ...APP, publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString() },
  });
  try {
    servers.push(
      await startServer(INTERNET_NS, [
        "forward",
        `tcp:${INTERNET.github}:80`,
        `unix:${GITHUB_SOCK}`,
      ]),
      await startServer(HOST_NS, [
        "forward",
        `unix:${WEBHOOK_SOCK}`,
        `tcp:127.0.0.1:${WEBHOOK_PORT}`,
      ]),
    );
    const standin = await buildRunnerStandin(dir);
    const write = (name: string, text: string, mode = 0o600): string => {
      const file = path.join(dir, name);
      writeFileSync(file, text, { mode });
      return file;
    };
    write("app.pem", privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    write("webhook-secret", `${webhookSecret}\n`);
    write("policy.yml", options.policy, 0o644);
    const logDir = path.join(dir, "logs");
    const configFile = write(
      "sandboxed.yml",
      [
        "apiVersion: sandboxed/v1",
        "kind: ServiceConfig",
        "github:",
        `  apiUrl: http://${INTERNET.github}`,
        `  app: { id: ${APP.appId}, privateKeyFile: app.pem, installationId: ${APP.installationId} }`,
        "scope: { organization: octo-org }",
        "labelSets:",
        "  - { name: default, labels: [sandboxed], policy: policy.yml, template: default, repoPolicy: true }",
        ...(options.container
          ? [
              `  - { name: container, labels: [${options.container.labels.join(", ")}], policy: policy.yml, template: default, backend: container }`,
              `docker: { socket: ${options.container.dockerSocket} }`,
            ]
          : []),
        `runner: { tarball: ${standin.file}, sha256: ${standin.sha256} }`,
        `capacity: { sandboxes: ${options.capacity} }`,
        `webhook: { listen: "127.0.0.1:${WEBHOOK_PORT}", path: /webhook, secretFile: webhook-secret }`,
        `metrics: { listen: "unix:${METRICS_SOCK}" }`,
        "reconcile: { interval: 10s }",
        "idleTimeout: 2m",
        `stateDir: ${TEST_STATE_DIR}`,
        `logs: { dir: ${logDir}, retention: 1d }`,
        "",
      ].join("\n"),
      0o644,
    );
    const world: ServeWorld = {
      emulator,
      dir,
      configFile,
      logDir,
      webhookSecret,
      async startService() {
        const outFile = path.join(dir, `serve-${Date.now()}.log`);
        const fd = openSync(outFile, "a");
        const child = spawn(
          "nsenter",
          [
            `--net=/run/netns/${HOST_NS}`,
            "--",
            process.execPath,
            BIN,
            "serve",
            "--config",
            configFile,
            "--accel",
            "tcg",
            "--dns-server",
            INTERNET.dns1,
          ],
          { stdio: ["ignore", fd, fd], env: { ...process.env, NO_COLOR: "1" } },
        );
        closeSync(fd);
        const output = (): string => readFileSync(outFile, "utf8");
        const exited = new Promise<number | null>((resolve) =>
          child.once("exit", (code) => resolve(code)),
        );
        for (let i = 0; ; i++) {
          if (output().includes("[serve] ready")) break;
          if (child.exitCode !== null || i > 3000)
            throw new Error(`serve did not start:\n${output().slice(-4000)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        return {
          child,
          output,
          async stop(signal = "SIGTERM") {
            if (child.exitCode === null) child.kill(signal);
            return exited;
          },
        };
      },
      getMetrics: (urlPath) =>
        new Promise((resolve, reject) => {
          import("node:http")
            .then(({ get }) => {
              get({ socketPath: METRICS_SOCK, path: urlPath }, (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (d: string) => (body += d));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
              }).on("error", reject);
            })
            .catch(reject);
        }),
      postWebhook: (body, headers) =>
        new Promise((resolve, reject) => {
          import("node:http")
            .then(({ request }) => {
              const req = request(
                {
                  socketPath: WEBHOOK_SOCK,
                  path: "/webhook",
                  method: "POST",
                  headers: { "content-type": "application/json", ...headers },
                },
                (res) => {
                  res.resume();
                  resolve(res.statusCode ?? 0);
                },
              );
              req.on("error", reject);
              req.end(body);
            })
            .catch(reject);
        }),
      async teardown() {
        for (const s of servers) await s.stop();
        await emulator.close();
        await teardownNet();
      },
    };
    return world;
  } catch (error) {
    for (const s of servers) await s.stop();
    await emulator.close();
    await teardownNet();
    throw error;
  }
}
