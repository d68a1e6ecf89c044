/**
 * Shared fixtures for the network tests: policies, a self-signed certificate for allowed.test,
 * local HTTP/HTTPS upstreams, and raw-socket helpers. Everything binds 127.0.0.1 only.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import tls from "node:tls";
import { execa } from "execa";
import type { AllowRule, NetworkPolicy } from "../../runner/policy/index.js";

export const NOW = new Date("2026-01-02T03:04:05.000Z");
export const JOB = "job-42";

let line = 0;
const at = () => ({ file: "policy.yml", line: ++line, col: 5, endLine: line, endCol: 9 });
export const hostRule = (pattern: string, ports: number[]): AllowRule => ({
  kind: "host",
  host: pattern.replace(/^\*\./, ""),
  wildcard: pattern.startsWith("*."),
  ports,
  source: at(),
});
export const cidrRule = (cidr: string, ports: number[]): AllowRule => ({
  kind: "cidr",
  cidr,
  ports,
  source: at(),
});
export const network = (mode: NetworkPolicy["mode"], allow: AllowRule[]): NetworkPolicy => ({
  mode,
  bandwidth: { egressBps: 1e9, ingressBps: 1e9 },
  allow,
});

export interface Cert {
  readonly dir: string;
  readonly certFile: string;
  readonly key: Buffer;
  readonly cert: Buffer;
}

/** A throwaway self-signed certificate for allowed.test, made at test time. */
export async function makeCert(): Promise<Cert> {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-net-"));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  await execa("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "1",
    "-subj",
    "/CN=allowed.test",
    "-addext",
    "subjectAltName=DNS:allowed.test",
  ]);
  return { dir, certFile, key: readFileSync(keyFile), cert: readFileSync(certFile) };
}

export interface Upstreams {
  readonly httpPort: number;
  readonly httpsPort: number;
  /** TCP connections the HTTPS upstream has accepted: a refused tunnel must not add one. */
  tlsConnections: number;
  close(): Promise<void>;
}

/** HTTP echoes the request as JSON; HTTPS answers "hello tls". */
export async function startUpstreams(cert: Cert): Promise<Upstreams> {
  const echo = http.createServer({ maxHeaderSize: 80 * 1024 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(
        JSON.stringify({
          method: req.method,
          url: req.url,
          rawHeaders: req.rawHeaders,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  const secure = https.createServer({ key: cert.key, cert: cert.cert }, (_req, res) => {
    res.end("hello tls");
  });
  const listen = (s: net.Server) =>
    new Promise<number>((resolve) =>
      s.listen(0, "127.0.0.1", () => resolve((s.address() as net.AddressInfo).port)),
    );
  const up: Upstreams = {
    httpPort: await listen(echo),
    httpsPort: await listen(secure),
    tlsConnections: 0,
    close: async () => {
      echo.closeAllConnections();
      secure.closeAllConnections();
      await Promise.all([new Promise((r) => echo.close(r)), new Promise((r) => secure.close(r))]);
    },
  };
  secure.on("connection", () => up.tlsConnections++);
  return up;
}

/** Send raw bytes, return everything the peer sends until it closes (or `ms` passes). */
export function rawExchange(port: number, data: string | Buffer, ms = 5000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, "127.0.0.1", () => s.write(data));
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, ms);
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", done);
    s.on("close", done);
  });
}

/** Open a CONNECT tunnel; resolves with the socket after the status line, and that status. */
export function openTunnel(
  port: number,
  target: string,
): Promise<{ socket: net.Socket; status: number; head: string }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    });
    let buf = "";
    const onData = (c: Buffer) => {
      buf += c.toString("latin1");
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      s.off("data", onData);
      resolve({ socket: s, status: Number(buf.split(" ")[1]), head: buf });
    };
    s.on("data", onData);
    s.on("error", reject);
  });
}

/** TLS over an open tunnel; resolves with the HTTP body, or the error that ended it. */
export function tlsGet(
  socket: net.Socket,
  servername: string,
  ca: Buffer,
): Promise<{ body?: string; error?: string }> {
  return new Promise((resolve) => {
    const t = tls.connect({ socket, servername, ca, checkServerIdentity: () => undefined });
    let body = "";
    t.on("secureConnect", () =>
      t.write("GET / HTTP/1.1\r\nHost: allowed.test\r\nConnection: close\r\n\r\n"),
    );
    t.on("data", (c: Buffer) => (body += c.toString()));
    t.on("error", (e: Error) => resolve({ error: e.message }));
    t.on("close", () => resolve(body ? { body } : { error: "closed" }));
  });
}

/** The bytes of a real ClientHello that Node sends for `servername`. */
export function captureClientHello(servername: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.once("data", (c: Buffer) => {
        resolve(c);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      const t = tls.connect({ host: "127.0.0.1", port, servername });
      t.on("error", () => undefined);
    });
  });
}
