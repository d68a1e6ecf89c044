/**
 * Pure helpers for the egress proxy's HTTP side: where a request is going, and which headers
 * cross the proxy. Kept apart from proxy.ts so the parsing has table tests of its own.
 */
import { normalizeHost } from "../policy/index.js";

export interface Target {
  /** Host as the client wrote it, brackets stripped (decideEgress normalises it). */
  readonly host: string;
  readonly port: number;
}

/** Header carrying the job id on plain HTTP (issue 4): the service's own API refuses it. */
export const JOB_HEADER = "X-Sandboxed-Job";

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) and the proxy's own: never forwarded. `host` is rebuilt
 * from the URL, and a client-supplied job header is dropped so a job cannot claim another id.
 */
const DROPPED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
  "host",
  JOB_HEADER.toLowerCase(),
]);

/** Response headers we never pass back; the proxy frames the body itself. */
const DROPPED_RESPONSE = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "te",
  "trailer",
  "upgrade",
  "transfer-encoding",
]);

function parsePort(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** `host:port` of a CONNECT request (RFC 9110 §9.3.6); the port is required. */
export function parseAuthority(text: string): Target | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]@/]+):([0-9]+)$/.exec(text);
  if (!m) return undefined;
  const port = parsePort(m[2]!);
  return port === undefined ? undefined : { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/**
 * Target of an absolute-form request (`GET http://host:port/path HTTP/1.1`). Only `http:` is
 * proxied as plain HTTP; `https:` must use CONNECT. The host is taken from the raw text rather
 * than WHATWG URL, which would silently rewrite it (IDN, numeric IPv4) before the policy sees it.
 */
export function parseAbsoluteUrl(
  text: string,
): (Target & { readonly path: string; readonly authority: string }) | undefined {
  const m = /^http:\/\/([^/?#\s]+)([/?][^\s#]*)?$/i.exec(text);
  if (!m) return undefined;
  const authority = m[1]!;
  // userinfo in a proxied URL is a phishing trick (RFC 9110 §4.2.4): refuse it.
  if (authority.includes("@")) return undefined;
  const hostPort = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::([0-9]*))?$/.exec(authority);
  if (!hostPort) return undefined;
  const port = hostPort[2] === undefined || hostPort[2] === "" ? 80 : parsePort(hostPort[2]);
  if (port === undefined) return undefined;
  const rest = m[2] ?? "/";
  return {
    host: hostPort[1]!.replace(/^\[|\]$/g, ""),
    port,
    path: rest.startsWith("?") ? `/${rest}` : rest,
    authority,
  };
}

/** Does a Host header name the same host and port as the request URL? */
export function hostHeaderAgrees(header: string, target: Target): boolean {
  const parsed = parseAbsoluteUrl(`http://${header}/`);
  if (!parsed || parsed.port !== target.port) return false;
  const a = normalizeHost(parsed.host);
  const b = normalizeHost(target.host);
  return a.kind !== "invalid" && a.kind === b.kind && a.host === b.host;
}

/** Header values of `name` in a raw header list. */
export function headerValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  }
  return out;
}

/**
 * Headers named in Connection are hop-by-hop too, except the body framing ones: dropping
 * `Content-Length` because a client wrote `Connection: content-length` would let the body be read
 * upstream as a second request (smuggling).
 */
function connectionTokens(raw: readonly string[]): Set<string> {
  const tokens = headerValues(raw, "connection").flatMap((v) =>
    v.split(",").map((t) => t.trim().toLowerCase()),
  );
  return new Set(tokens.filter((t) => t !== "content-length" && t !== "transfer-encoding"));
}

/**
 * Headers sent upstream: the client's, minus hop-by-hop ones and any named in Connection, plus
 * Host (from the URL), the job header and `Connection: close` (one request per connection).
 * Content-Length and Transfer-Encoding stay: Node frames the streamed body from them.
 */
export function forwardHeaders(
  raw: readonly string[],
  target: { readonly authority: string },
  jobId: string,
): string[] {
  const named = connectionTokens(raw);
  const out: string[] = ["Host", target.authority];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (DROPPED.has(lower) || named.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push(JOB_HEADER, jobId, "Connection", "close");
  return out;
}

/** Headers passed back to the client, in the same flat form. */
export function responseHeaders(raw: readonly string[]): string[] {
  const named = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (DROPPED_RESPONSE.has(lower) || named.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  out.push("Connection", "close");
  return out;
}
