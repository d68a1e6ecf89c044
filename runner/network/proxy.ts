/**
 * The egress proxy (issue 4): one listener per sandbox. Plain HTTP is allowed by URL host and
 * port; HTTPS by `CONNECT host:port`, then the ClientHello's SNI must name the same host. The
 * proxy resolves names itself, checks every address it may dial (decideAddress) and dials the
 * address it checked, so a rebinding resolver cannot move it to 127.0.0.1 or the metadata service.
 * One EgressDecisionLog per request or tunnel, emitted when it ends.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { decideEgress, normalizeHost } from "../policy/index.js";
import type { EgressVerdict } from "../policy/index.js";
import {
  forwardHeaders,
  headerValues,
  hostHeaderAgrees,
  parseAbsoluteUrl,
  parseAuthority,
  responseHeaders,
} from "./http-message.js";
import {
  applyVerdict,
  dial,
  emit,
  listenError,
  newDecision,
  pickAddress,
  refuseSoftly,
} from "./proxy-decision.js";
import type { Target } from "./http-message.js";
import type { Decision, ProxyReason, ProxyState } from "./proxy-decision.js";
import { readClientHello } from "./proxy-hello.js";
import { createEgressTally, renderEgressSummary, statusRoute } from "./proxy-status.js";
import type { EgressTally, StatusRoute } from "./proxy-status.js";
import type { HelloParse } from "./tls-hello.js";
import type { EgressListenerOptions } from "./types.js";

export type { ProxyReason } from "./proxy-decision.js";

export interface EgressProxyOptions extends EgressListenerOptions {
  /** Dialling an allowed destination; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Request headers, and the ClientHello after CONNECT, must arrive within this; default 10 s. */
  readonly headerTimeoutMs?: number;
  /** The injected resolver must answer within this; default 5 s. */
  readonly resolveTimeoutMs?: number;
  /** Concurrent client connections; more are dropped by the listener. Default 256. */
  readonly maxConnections?: number;
  /**
   * What `GET http://sandboxed.internal/egress` summarises. The caller passes one it also feeds
   * from the DNS filter; without it the proxy counts its own decisions.
   */
  readonly tally?: EgressTally;
}

export interface EgressProxy {
  readonly port: number;
  readonly address: string;
  close(): Promise<void>;
}

/** Request headers are capped here (issue 4): larger ones get 431 and a log line. */
export const MAX_HEADER_BYTES = 64 * 1024;

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export async function createEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const server = http.createServer({
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: headerTimeoutMs,
    // Uploads may be long; only the headers are timed (slowloris).
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, headerTimeoutMs / 4)),
    insecureHTTPParser: false,
    keepAlive: false,
  });
  server.maxConnections = options.maxConnections ?? 256;
  const tally = options.tally ?? createEgressTally();
  const state: ProxyState = {
    network: options.network,
    jobId: options.jobId,
    resolver: options.resolver,
    onDecision: options.tally
      ? options.onDecision
      : (log) => {
          tally.add(log);
          options.onDecision(log);
        },
    tally,
    now: options.now ?? (() => new Date()),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    headerTimeoutMs,
    resolveTimeoutMs: options.resolveTimeoutMs ?? 5_000,
    sockets: new Set(),
    self: { address: "", port: 0 },
  };
  server.on("connection", (socket: Duplex) => track(state, socket));
  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    handleRequest(state, req, res).catch(() => res.destroy());
  });
  server.on("connect", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    handleConnect(state, req, socket, head).catch(() => socket.destroy());
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex) => {
    const d = newDecision(state, "http", req.url ?? "", 0);
    refuseRaw(state, socket, d, 405, "upgrade-refused");
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    clientError(state, err, socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) =>
      reject(listenError("egress proxy", options.listen.host, options.listen.port, e)),
    );
    server.listen(options.listen.port, options.listen.host, () => {
      server.removeAllListeners("error");
      resolve();
    });
  });
  // A listener that fails later (EMFILE) must not take the runner down.
  server.on("error", () => undefined);
  const bound = server.address() as AddressInfo;
  state.self = { address: bound.address, port: bound.port };
  return {
    port: bound.port,
    address: bound.address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of state.sockets) s.destroy();
      }),
  };
}

function track(state: ProxyState, socket: Duplex): void {
  state.sockets.add(socket);
  // Every socket gets an error handler: a reset from a client is not a crash.
  socket.on("error", () => undefined);
  socket.once("close", () => state.sockets.delete(socket));
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
};

function body(d: Decision): string {
  return `sandboxed: egress to ${d.host || "?"}:${d.port} denied (${d.reason})\n`;
}

/** Refuse on a raw socket (CONNECT, upgrade, parse errors) and log. */
function refuseRaw(
  state: ProxyState,
  socket: Duplex,
  d: Decision,
  status: number,
  reason: ProxyReason,
): void {
  d.verdict = "deny";
  d.reason = reason;
  const text = body(d);
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  // Once the refusal is flushed, nothing more is read from this client.
  socket.once("finish", () => socket.destroy());
  emit(state, d);
}

function clientError(state: ProxyState, err: NodeJS.ErrnoException, socket: Duplex): void {
  const code = err.code ?? "";
  let status: number;
  let reason: ProxyReason;
  if (code === "HPE_HEADER_OVERFLOW") [status, reason] = [431, "headers-too-large"];
  else if (code === "ERR_HTTP_REQUEST_TIMEOUT") [status, reason] = [408, "header-timeout"];
  else if (code.startsWith("HPE_")) [status, reason] = [400, "bad-request"];
  else {
    // A reset or EOF before any request: nothing was asked, nothing to log.
    socket.destroy();
    return;
  }
  refuseRaw(state, socket, newDecision(state, "http", "", 0), status, reason);
}

/** Refuse a plain-HTTP request with a short text body; the log is emitted on close. */
function refuseHttp(res: http.ServerResponse, d: Decision, status: number): void {
  d.verdict = "deny";
  const text = body(d);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    "Content-Type": "text/plain",
    "Content-Length": Buffer.byteLength(text),
    Connection: "close",
  });
  res.end(text);
}

async function handleRequest(
  state: ProxyState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const target = parseAbsoluteUrl(req.url ?? "");
  // The status page is answered here, before the policy: it is not egress, and it is logged as
  // no decision (asking for the summary must not change it).
  if (target) {
    const route = statusRoute(req.method ?? "", target);
    if (route.kind !== "not-status") return answerStatus(state, req, res, target, route);
  }
  const d = newDecision(state, "http", "", 0);
  res.once("close", () => emit(state, d));
  if (!target) {
    d.reason = "bad-request";
    return refuseHttp(res, d, 400);
  }
  d.host = target.host;
  d.port = target.port;
  if (!METHODS.has(req.method ?? "")) {
    d.reason = "method-not-allowed";
    return refuseHttp(res, d, 405);
  }
  const hosts = headerValues(req.rawHeaders, "host");
  if (hosts.length > 1) {
    d.reason = "bad-request";
    return refuseHttp(res, d, 400);
  }
  if (!applyVerdict(d, decideEgress(state.network, target))) return refuseHttp(res, d, 403);
  // Domain fronting in the clear: the URL says one host, the Host header another.
  if (hosts.length === 1 && !hostHeaderAgrees(hosts[0]!, target)) {
    if (!refuseSoftly(state, d, "host-mismatch")) return refuseHttp(res, d, 403);
  }
  const address = await pickAddress(state, d, target);
  if (address === undefined) return refuseHttp(res, d, d.reason === "resolve-failed" ? 502 : 403);
  const upstream = await dial(state, d, address, target.port);
  if (!upstream) return refuseHttp(res, d, 502);
  const out = http.request({
    method: req.method,
    path: target.path,
    headers: forwardHeaders(req.rawHeaders, target, state.jobId),
    setHost: false,
    // No agent: Node then uses createConnection, i.e. the socket to the pinned address.
    createConnection: () => upstream,
  });
  out.on("response", (up) => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, responseHeaders(up.rawHeaders));
    up.pipe(res);
    up.on("error", () => res.destroy());
  });
  out.on("error", () => {
    d.reason = "connect-failed";
    if (res.headersSent) res.destroy();
    else refuseHttp(res, d, 502);
  });
  req.on("error", () => out.destroy());
  res.once("close", () => {
    out.destroy();
    upstream.destroy();
  });
  req.pipe(out);
}

const STATUS_ANSWERS: Record<Exclude<StatusRoute["kind"], "not-status">, number> = {
  summary: 200,
  "not-found": 404,
  "method-not-allowed": 405,
};

/** `http://sandboxed.internal/egress`: this sandbox's own summary, read-only (proxy-status.ts). */
function answerStatus(
  state: ProxyState,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  target: Target,
  route: Exclude<StatusRoute, { kind: "not-status" }>,
): void {
  req.resume();
  const hosts = headerValues(req.rawHeaders, "host");
  // The same Host rules as forwarded requests: one header, naming the same host and port.
  const agrees = hosts.length === 0 || (hosts.length === 1 && hostHeaderAgrees(hosts[0]!, target));
  const status = agrees ? STATUS_ANSWERS[route.kind] : 400;
  const text =
    status === 200
      ? renderEgressSummary(state.tally.snapshot(), state.jobId)
      : `sandboxed: ${STATUS_TEXT[status] ?? "Error"}: only GET http://sandboxed.internal/egress\n`;
  res.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    Connection: "close",
    ...(status === 405 ? { Allow: "GET" } : {}),
  });
  res.end(text);
}

async function handleConnect(
  state: ProxyState,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  // Bytes that arrive while we resolve and dial must wait, not be lost.
  socket.pause();
  const d = newDecision(state, "connect", req.url ?? "", 0);
  const target = parseAuthority(req.url ?? "");
  if (!target) return refuseRaw(state, socket, d, 400, "bad-request");
  d.host = target.host;
  d.port = target.port;
  const verdict: EgressVerdict = decideEgress(state.network, target);
  if (!applyVerdict(d, verdict)) return refuseRaw(state, socket, d, 403, d.reason);
  socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
  let first = head;
  const normal = normalizeHost(target.host);
  // An IP literal allowed by a cidr rule needs no SNI: the client asked for an address.
  if (normal.kind === "name") {
    const hello = await readClientHello(socket, head, state.headerTimeoutMs);
    first = hello.bytes;
    const problem = helloProblem(hello.parse, normal.host);
    if (problem && !refuseSoftly(state, d, problem)) {
      socket.destroy();
      return emit(state, d);
    }
  }
  const address = await pickAddress(state, d, target);
  const upstream = address === undefined ? undefined : await dial(state, d, address, target.port);
  if (!upstream) {
    socket.destroy();
    return emit(state, d);
  }
  let open = 2;
  const closed = () => {
    if (--open === 0) emit(state, d);
  };
  for (const [a, b] of [
    [socket, upstream],
    [upstream, socket],
  ] as const) {
    a.once("close", () => {
      b.destroy();
      closed();
    });
    a.on("error", () => b.destroy());
  }
  if (first.length > 0) upstream.write(first);
  socket.pipe(upstream);
  upstream.pipe(socket);
}

function helloProblem(parse: HelloParse, host: string): ProxyReason | undefined {
  switch (parse.kind) {
    case "not-tls":
      return "not-tls";
    case "need-more":
    case "malformed":
      return "bad-hello";
    case "hello": {
      if (parse.sni === undefined) return "no-sni";
      // ECH hides the real name behind the outer SNI (research §3.1 #7).
      if (parse.ech) return "ech-refused";
      const sni = normalizeHost(parse.sni);
      return sni.kind === "name" && sni.host === host ? undefined : "sni-mismatch";
    }
    default:
      return ((_: never) => "bad-hello" as const)(parse);
  }
}
