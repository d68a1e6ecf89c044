/**
 * GET /metrics (Prometheus text format) and GET /healthz for the service. Nothing else is served:
 * any other path is 404, any other method on these two is 405.
 *
 * /healthz answers 200 `{"ok":true,...}` while the service can take jobs and 503
 * `{"ok":false,...}` when it cannot (draining, GitHub unreachable: the health callback decides),
 * so a load balancer or systemd watchdog script reads one status code.
 */
import { lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { SandboxedError } from "../errors/index.js";
import { formatListen, parseListen } from "./listen.js";
import type { ListenAddress } from "./listen.js";
import type { Metrics } from "./metrics.js";

export interface HealthStatus {
  readonly ok: boolean;
  /** Extra fields in the JSON answer: queue length, sandboxes, draining, last reconcile… */
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface MetricsServerOptions {
  /**
   * `host:port` or `unix:/path`, or the loaded config's metrics.listen (`{host, port}` or
   * `{path}`). Port 0 picks a free port.
   */
  readonly listen:
    string | { readonly host: string; readonly port: number } | { readonly path: string };
  readonly metrics: Pick<Metrics, "registry">;
  readonly health: () => HealthStatus | Promise<HealthStatus>;
}

export interface MetricsServer {
  /** Where it listens, with the real port when 0 was asked: `127.0.0.1:9464`, `unix:/run/…`. */
  readonly address: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(res.req.method === "HEAD" ? undefined : body);
}

async function handle(
  options: MetricsServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const route = (req.url ?? "/").split("?")[0];
  if (route !== "/metrics" && route !== "/healthz") {
    send(res, 404, "text/plain; charset=utf-8", "not found: try /metrics or /healthz\n");
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  if (route === "/metrics") {
    const { registry } = options.metrics;
    send(res, 200, registry.contentType, await registry.metrics());
    return;
  }
  let body: Record<string, unknown>;
  try {
    const h = await options.health();
    body = { ...h.detail, ok: h.ok };
  } catch (error) {
    body = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  send(res, body.ok === true ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
}

function listenError(spec: string, address: ListenAddress, error: unknown): SandboxedError {
  const code = (error as NodeJS.ErrnoException).code ?? "";
  const hint =
    code === "EADDRINUSE"
      ? address.kind === "tcp"
        ? `another process holds it (ss -ltnp 'sport = :${address.port}'); stop it or change metrics.listen`
        : isSocket(address.path)
          ? "another process serves on this socket; stop it or change metrics.listen"
          : `${address.path} is a file, not a socket: remove it or change metrics.listen`
      : code === "EACCES"
        ? address.kind === "tcp" && address.port < 1024
          ? "ports below 1024 need root; use a port above 1024 such as 9464"
          : "the service cannot write there; pick a folder it owns, such as /run/sandboxed"
        : code === "EADDRNOTAVAIL"
          ? "this host has no such address; use 127.0.0.1 (local scrapes) or 0.0.0.0"
          : "check metrics.listen in sandboxed.yml";
  const message = error instanceof Error ? error.message : String(error);
  return new SandboxedError("SBX_METRICS_LISTEN", `cannot listen on ${spec}: ${message}`, {
    hint,
    cause: error,
  });
}

function isSocket(file: string): boolean {
  try {
    return lstatSync(file).isSocket();
  } catch {
    return false;
  }
}

/** Resolves true when something answers on the socket (a live server, not a stale file). */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(socketPath);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const address: ListenAddress =
    typeof options.listen === "string"
      ? parseListen(options.listen)
      : "path" in options.listen
        ? { kind: "unix", path: options.listen.path }
        : { kind: "tcp", host: options.listen.host, port: options.listen.port };
  const spec = formatListen(address);
  const server = createServer((req, res) => {
    handle(options, req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        send(res, 500, "text/plain; charset=utf-8", `${String(error)}\n`);
      } else res.destroy();
    });
  });
  const bind = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once("error", reject);
      const done = (): void => {
        server.off("error", reject);
        resolve();
      };
      if (address.kind === "unix") server.listen(address.path, done);
      else server.listen(address.port, address.host, done);
    });

  if (address.kind === "unix") mkdirSync(path.dirname(address.path), { recursive: true });
  try {
    await bind();
  } catch (error) {
    // A socket left by a killed service answers nobody: remove it and bind again. Only a
    // socket: a regular file at that path is someone's, and stays.
    const stale =
      address.kind === "unix" &&
      (error as NodeJS.ErrnoException).code === "EADDRINUSE" &&
      isSocket(address.path) &&
      !(await socketAnswers(address.path));
    if (!stale) throw listenError(spec, address, error);
    unlinkSync(address.path);
    await bind().catch((again: unknown) => {
      throw listenError(spec, address, again);
    });
  }

  const bound =
    address.kind === "unix"
      ? address
      : { ...address, port: (server.address() as AddressInfo).port };
  return {
    address: formatListen(bound),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
