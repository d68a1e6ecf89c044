/**
 * The DNS filter (issue 4): the guest's only resolver, on UDP and TCP. It answers A and AAAA for
 * names the policy allows (on any port of their rules), with only the addresses decideAddress
 * lets through, so a name that resolves to 127.0.0.1 or 169.254.169.254 gets no address. Every
 * other name is NXDOMAIN, and it never recurses for them: no DNS tunnelling through the filter
 * (research §3.1 #1). TXT, ANY, AXFR, NULL and every other type are REFUSED. One log line per query.
 */
import dgram from "node:dgram";
import net from "node:net";
import ipaddr from "ipaddr.js";
import { decideAddress, decideEgress } from "../policy/index.js";
import type { EgressReason } from "../policy/index.js";
import {
  encodeReply,
  parseQuery,
  QCLASS_IN,
  QTYPE_A,
  QTYPE_AAAA,
  qtypeName,
  RCODE,
} from "./dns-wire.js";
import type { QueryProblem } from "./dns-wire.js";
import { listenError } from "./proxy-decision.js";
import type { EgressDecisionLog, EgressListenerOptions } from "./types.js";

export type DnsReason =
  | EgressReason
  | QueryProblem
  /** Any type but A and AAAA, or a class but IN. */
  | "qtype-refused"
  | "resolve-failed";

/** UDP and TCP both listen on `listen`; the resolver looks up A and AAAA for allowed names. */
export interface DnsFilterOptions extends EgressListenerOptions {
  /** TTL of answers; default 30 s. */
  readonly ttlSeconds?: number;
  /** Default 3 s; a slower resolver gets SERVFAIL. */
  readonly resolveTimeoutMs?: number;
  /** A TCP client idle this long is closed; default 10 s. */
  readonly tcpIdleTimeoutMs?: number;
  /** Default 64. */
  readonly maxTcpConnections?: number;
}

export interface DnsFilter {
  readonly port: number;
  close(): Promise<void>;
}

interface DnsState {
  readonly options: DnsFilterOptions;
  readonly now: () => Date;
}

export async function createDnsFilter(options: DnsFilterOptions): Promise<DnsFilter> {
  const state: DnsState = { options, now: options.now ?? (() => new Date()) };
  const type = net.isIPv6(options.listen.host) ? "udp6" : "udp4";
  // With port 0, UDP picks a port and TCP must get the same one; retry if it is taken on TCP.
  for (let attempt = 0; ; attempt++) {
    const udp = dgram.createSocket(type);
    udp.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      const fail = (e: unknown) =>
        reject(listenError("DNS filter (UDP)", options.listen.host, options.listen.port, e));
      udp.once("error", fail);
      udp.bind(options.listen.port, options.listen.host, () => {
        udp.off("error", fail);
        resolve();
      });
    });
    const port = udp.address().port;
    const tcp = net.createServer({ pauseOnConnect: false }, (s) => serveTcp(state, s));
    tcp.maxConnections = options.maxTcpConnections ?? 64;
    let tcpError: unknown;
    const listening = await new Promise<boolean>((resolve) => {
      tcp.once("error", (e) => {
        tcpError = e;
        resolve(false);
      });
      tcp.listen(port, options.listen.host, () => resolve(true));
    });
    if (!listening) {
      udp.close();
      if (options.listen.port !== 0 || attempt >= 5) {
        throw listenError("DNS filter (TCP)", options.listen.host, port, tcpError);
      }
      continue;
    }
    tcp.on("error", () => undefined);
    const sockets = new Set<net.Socket>();
    tcp.on("connection", (s) => {
      sockets.add(s);
      s.once("close", () => sockets.delete(s));
    });
    udp.on("message", (msg, peer) => {
      answer(state, msg)
        .then((reply) => {
          if (reply) udp.send(reply, peer.port, peer.address);
        })
        .catch(() => undefined);
    });
    return {
      port,
      close: () =>
        new Promise<void>((resolve) => {
          for (const s of sockets) s.destroy();
          udp.close(() => tcp.close(() => resolve()));
        }),
    };
  }
}

/** DNS over TCP: each message has a 2-byte length prefix (RFC 1035 §4.2.2, RFC 7766). */
function serveTcp(state: DnsState, socket: net.Socket): void {
  socket.on("error", () => undefined);
  socket.setTimeout(state.options.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
  let pending = Buffer.alloc(0);
  // Replies go out in query order even when lookups finish out of order.
  let chain = Promise.resolve();
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const msg = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      chain = chain
        .then(() => answer(state, msg))
        .then((reply) => {
          if (!reply) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length);
          if (socket.writable) socket.write(Buffer.concat([prefix, reply]));
        })
        .catch(() => undefined);
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

interface Outcome {
  host: string;
  qtype?: string;
  verdict: "allow" | "deny";
  reason: DnsReason;
  rule?: string;
  wouldDeny?: boolean;
  address?: string;
}

function log(state: DnsState, o: Outcome): void {
  const entry: EgressDecisionLog = {
    time: state.now().toISOString(),
    job: state.options.jobId,
    kind: "dns",
    host: o.host,
    // DNS decisions are by name only: no port is known yet.
    port: 0,
    ...(o.address === undefined ? {} : { address: o.address }),
    verdict: o.verdict,
    reason: o.reason,
    ...(o.rule === undefined ? {} : { rule: o.rule }),
    ...(o.wouldDeny === undefined ? {} : { wouldDeny: o.wouldDeny }),
    ...(o.qtype === undefined ? {} : { qtype: o.qtype }),
  };
  try {
    state.options.onDecision(entry);
  } catch {
    // The sink is the caller's; its failure must not stop the resolver.
  }
}

/**
 * One query in, at most one reply out. Order: malformed or non-query -> FORMERR/NOTIMP/REFUSED;
 * class other than IN or type other than A/AAAA -> REFUSED; decideEgress on the name (any port)
 * deny -> NXDOMAIN; resolve (failure -> SERVFAIL); keep the family asked for; drop each address
 * decideAddress denies; answer the rest (possibly none).
 */
export async function answer(state: DnsState, msg: Buffer): Promise<Buffer | undefined> {
  const q = parseQuery(msg);
  if (q.kind === "drop") return undefined;
  if (q.kind === "error") {
    log(state, {
      host: q.name ?? "",
      ...(q.qtype === undefined ? {} : { qtype: qtypeName(q.qtype) }),
      verdict: "deny",
      reason: q.problem,
    });
    return encodeReply({ id: q.id, queryFlags: q.flags, rcode: q.rcode });
  }
  const { network } = state.options;
  const base = { id: q.id, queryFlags: q.flags, question: q.question };
  const qtype = qtypeName(q.qtype);
  const refuse = (rcode: number, reason: DnsReason, extra: Partial<Outcome> = {}) => {
    log(state, { host: q.name, qtype, verdict: "deny", reason, ...extra });
    return encodeReply({ ...base, rcode });
  };
  if (q.qclass !== QCLASS_IN || (q.qtype !== QTYPE_A && q.qtype !== QTYPE_AAAA)) {
    return refuse(RCODE.REFUSED, "qtype-refused");
  }
  const v = decideEgress(network, { host: q.name, port: "any" });
  const rule = v.rule && `${v.rule.source.file}:${v.rule.source.line}:${v.rule.source.col}`;
  const named = { ...(rule ? { rule } : {}) };
  if (v.verdict === "deny") return refuse(RCODE.NXDOMAIN, v.reason, named);
  let addresses: readonly string[];
  try {
    addresses = await withTimeout(
      state.options.resolver(q.name),
      state.options.resolveTimeoutMs ?? 3_000,
    );
  } catch {
    return refuse(RCODE.SERVFAIL, "resolve-failed", named);
  }
  const family = q.qtype === QTYPE_A ? "ipv4" : "ipv6";
  const ofFamily = addresses.filter((a) => ipaddr.isValid(a) && ipaddr.parse(a).kind() === family);
  let wouldDeny = v.wouldDeny;
  let reason: DnsReason = v.wouldReason ?? v.reason;
  const kept: string[] = [];
  let firstDenied: DnsReason | undefined;
  for (const address of ofFamily) {
    const av = decideAddress(network, { host: q.name, port: "any" }, address);
    if (av.verdict === "deny") {
      firstDenied ??= av.reason;
      continue;
    }
    if (av.wouldDeny && !wouldDeny) {
      wouldDeny = true;
      reason = av.wouldReason ?? av.reason;
    }
    kept.push(address);
  }
  if (kept.length === 0 && firstDenied !== undefined) {
    // Rebinding: an allowed name whose every address is forbidden gets none.
    return refuse(RCODE.NOERROR, firstDenied, named);
  }
  log(state, {
    host: q.name,
    qtype,
    verdict: "allow",
    reason,
    ...named,
    ...(wouldDeny === undefined ? {} : { wouldDeny }),
    ...(kept[0] === undefined ? {} : { address: kept[0] }),
  });
  return encodeReply({
    ...base,
    rcode: RCODE.NOERROR,
    answers: kept.map((address) => ({ type: q.qtype, address })),
    ttl: state.options.ttlSeconds ?? 30,
  });
}
