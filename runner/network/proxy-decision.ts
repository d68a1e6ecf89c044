/**
 * The proxy's per-request decision record and the steps every request shares: apply a verdict,
 * resolve and pick an address to pin, dial it, emit the one log line. Internal to proxy.ts.
 */
import net from "node:net";
import { SandboxedError } from "../errors/index.js";
import type { Duplex } from "node:stream";
import { classifyAddress, decideAddress, normalizeHost } from "../policy/index.js";
import type { EgressReason, EgressVerdict, NetworkPolicy } from "../policy/index.js";
import type { EgressTally } from "./proxy-status.js";
import type { EgressDecisionLog, Resolver } from "./types.js";

/**
 * Why the proxy let a request through or not: the policy's reasons, plus what only the proxy can
 * see on the wire, plus failures after an allow (logged as deny: nothing was reached).
 */
export type ProxyReason =
  | EgressReason
  /** CONNECT: the ClientHello's SNI names another host than the CONNECT line (fronting). */
  | "sni-mismatch"
  /** CONNECT to a name: the ClientHello carries no SNI. */
  | "no-sni"
  /** CONNECT to a name: the first bytes are not a TLS handshake. */
  | "not-tls"
  /** CONNECT: a TLS record that is not a well-formed ClientHello, or it never completed. */
  | "bad-hello"
  /** CONNECT: Encrypted Client Hello hides the real SNI. */
  | "ech-refused"
  /** HTTP: the Host header names another host or port than the URL. */
  | "host-mismatch"
  /** Not an absolute-form http:// request, a bad CONNECT target, or unparsable bytes. */
  | "bad-request"
  | "method-not-allowed"
  | "upgrade-refused"
  | "headers-too-large"
  | "header-timeout"
  /** The name resolved to the proxy's own listener. Denied in audit mode too. */
  | "self-connection"
  | "resolve-failed"
  | "connect-failed";

export interface ProxyState {
  readonly network: NetworkPolicy;
  readonly jobId: string;
  readonly resolver: Resolver;
  readonly onDecision: (log: EgressDecisionLog) => void;
  /** What the status page (proxy-status.ts) summarises. */
  readonly tally: EgressTally;
  readonly now: () => Date;
  readonly connectTimeoutMs: number;
  readonly headerTimeoutMs: number;
  readonly resolveTimeoutMs: number;
  /** Every open socket, client and upstream, so close() can end them. */
  readonly sockets: Set<Duplex>;
  self: { address: string; port: number };
}

/** What happened to one request or tunnel; emitted once as an EgressDecisionLog. */
export interface Decision {
  readonly time: string;
  readonly kind: "http" | "connect";
  host: string;
  port: number;
  verdict: "allow" | "deny";
  reason: ProxyReason;
  rule?: string;
  wouldDeny?: boolean;
  address?: string;
  upstream?: net.Socket;
  emitted: boolean;
}

const MAX_LOGGED_HOST = 255;

export function newDecision(
  state: ProxyState,
  kind: Decision["kind"],
  host: string,
  port: number,
): Decision {
  return {
    time: state.now().toISOString(),
    kind,
    host: host.slice(0, MAX_LOGGED_HOST),
    port,
    verdict: "deny",
    reason: "bad-request",
    emitted: false,
  };
}

/** Record a policy verdict; true when the request may go on (always, in audit mode). */
export function applyVerdict(d: Decision, v: EgressVerdict): boolean {
  const normal = normalizeHost(d.host);
  if (normal.kind !== "invalid") d.host = normal.host;
  d.verdict = v.verdict;
  d.reason = v.wouldReason ?? v.reason;
  if (v.rule) d.rule = `${v.rule.source.file}:${v.rule.source.line}:${v.rule.source.col}`;
  if (v.wouldDeny !== undefined) d.wouldDeny = v.wouldDeny;
  return v.verdict === "allow";
}

/**
 * A denial the proxy finds after the policy allowed (SNI, Host header, address). In audit mode it
 * is recorded as wouldDeny (the first such reason is kept) and the request goes on.
 */
export function refuseSoftly(state: ProxyState, d: Decision, reason: ProxyReason): boolean {
  if (state.network.mode === "audit") {
    if (!d.wouldDeny) {
      d.wouldDeny = true;
      d.reason = reason;
    }
    return true;
  }
  d.verdict = "deny";
  d.reason = reason;
  return false;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** Would dialling this address reach the proxy itself (research §3.1 #18)? */
function isSelf(state: ProxyState, address: string, port: number): boolean {
  if (port !== state.self.port) return false;
  const self = state.self.address;
  if (address === self) return true;
  const cls = classifyAddress(self);
  return cls === "unspecified" && ["loopback", "unspecified"].includes(classifyAddress(address));
}

/**
 * Resolve (IP literals are their own answer), check each address with decideAddress and return
 * the first one that passes: the caller dials exactly that address (pinning: no second lookup
 * a rebinding resolver could answer differently). Undefined when nothing may be dialled.
 */
export async function pickAddress(
  state: ProxyState,
  d: Decision,
  target: { readonly host: string; readonly port: number },
): Promise<string | undefined> {
  const normal = normalizeHost(target.host);
  let addresses: readonly string[] = [];
  if (normal.kind === "ip") addresses = [normal.host];
  else if (normal.kind === "name") {
    addresses = await withTimeout(state.resolver(normal.host), state.resolveTimeoutMs).catch(
      () => [],
    );
  }
  addresses = addresses.filter((a) => normalizeHost(a).kind === "ip");
  if (addresses.length === 0) {
    d.verdict = "deny";
    d.reason = "resolve-failed";
    return undefined;
  }
  let denied: { address: string; reason: ProxyReason } | undefined;
  for (const address of addresses) {
    // Never ourselves, audit mode or not: a loop would eat every connection slot.
    if (isSelf(state, address, target.port)) {
      denied ??= { address, reason: "self-connection" };
      continue;
    }
    const v = decideAddress(state.network, target, address);
    if (v.verdict === "allow" && !v.wouldDeny) {
      d.address = address;
      return address;
    }
    if (denied === undefined || denied.reason === "self-connection") {
      denied = { address, reason: v.wouldReason ?? v.reason };
    }
  }
  d.address = denied!.address;
  if (denied!.reason === "self-connection") {
    d.verdict = "deny";
    d.reason = "self-connection";
    return undefined;
  }
  return refuseSoftly(state, d, denied!.reason) ? denied!.address : undefined;
}

/** Dial the pinned address; undefined (and the decision says why) when it fails or times out. */
export function dial(
  state: ProxyState,
  d: Decision,
  address: string,
  port: number,
): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, allowHalfOpen: true });
    state.sockets.add(socket);
    socket.on("error", () => undefined);
    let settled = false;
    const fail = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      d.verdict = "deny";
      d.reason = "connect-failed";
      resolve(undefined);
    };
    const timer = setTimeout(fail, state.connectTimeoutMs);
    socket.once("close", () => {
      state.sockets.delete(socket);
      fail();
    });
    socket.once("connect", () => {
      settled = true;
      clearTimeout(timer);
      d.upstream = socket;
      resolve(socket);
    });
  });
}

/** Emit the decision's one log line (STYLE H16); later calls do nothing. */
export function emit(state: ProxyState, d: Decision): void {
  if (d.emitted) return;
  d.emitted = true;
  const log: EgressDecisionLog = {
    time: d.time,
    job: state.jobId,
    kind: d.kind,
    host: d.host,
    port: d.port,
    ...(d.address === undefined ? {} : { address: d.address }),
    verdict: d.verdict,
    reason: d.reason,
    ...(d.rule === undefined ? {} : { rule: d.rule }),
    ...(d.wouldDeny === undefined ? {} : { wouldDeny: d.wouldDeny }),
    ...(d.verdict === "allow"
      ? { bytesUp: d.upstream?.bytesWritten ?? 0, bytesDown: d.upstream?.bytesRead ?? 0 }
      : {}),
  };
  try {
    state.onDecision(log);
  } catch {
    // The sink is the caller's; its failure must not take down other sandboxes' traffic.
  }
}

/** A listener that cannot bind (H5): what, where, and how to find who holds the port. */
export function listenError(what: string, host: string, port: number, cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? String(cause);
  return new SandboxedError(
    "SBX_NETWORK_LISTEN",
    `${what} cannot listen on ${host}:${port}: ${code}`,
    {
      hint: `free the port (ss -ltnup 'sport = :${port}') or listen on port 0`,
      cause,
    },
  );
}
