/**
 * Network area contracts (issue 4). Pieces:
 *  - decide-egress (pure, in runner/policy/decide-egress.ts): may host:port / address be reached?
 *  - egress proxy (proxy.ts): one listener per sandbox, HTTP by Host, HTTPS by CONNECT + SNI peek
 *  - DNS filter (dns-filter.ts): the guest's only resolver
 *  - sandbox network (netns.ts, nft.ts, tc.ts): per-sandbox netns, tap/veth, nftables, tc
 */

import type { ResolvedPolicy } from "../policy/index.js";

/** One canonical JSON line per egress decision (STYLE H16), written to the job's logs. */
export interface EgressDecisionLog {
  readonly time: string;
  readonly job: string;
  /** http: plain HTTP by Host; connect: HTTPS tunnel; dns: a query to the filter. */
  readonly kind: "http" | "connect" | "dns";
  readonly host: string;
  readonly port: number;
  /** The address the proxy resolved and dialled (pinned for the request). */
  readonly address?: string;
  readonly verdict: "allow" | "deny";
  readonly reason: string;
  /** file:line:col of the allow rule that decided, when one did. */
  readonly rule?: string;
  /** Audit mode: what enforcement would have done. */
  readonly wouldDeny?: boolean;
  readonly bytesUp?: number;
  readonly bytesDown?: number;
  /** DNS only: the query type (A, AAAA, TXT, ...). */
  readonly qtype?: string;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/** Resolves a name to addresses; injected so tests and the netns topology choose the resolver. */
export type Resolver = (name: string) => Promise<readonly string[]>;

/** What the egress proxy and the DNS filter both take: where to listen and what to enforce. */
export interface EgressListenerOptions {
  /** Where to listen; port 0 picks a free port. */
  readonly listen: Endpoint;
  readonly network: ResolvedPolicy["network"];
  readonly jobId: string;
  readonly resolver: Resolver;
  readonly onDecision: (log: EgressDecisionLog) => void;
  readonly now?: () => Date;
}
