/**
 * nftables rulesets for a sandbox's network (issue 4). Pure: returns nft script text; netns.ts
 * applies it with `nft -f -`, which loads a whole script atomically or nothing.
 *
 * Two tables, so that either one alone keeps the guest in:
 *  1. `inet sandboxed` inside the sandbox netns. Policy drop on forward, input and output. The one
 *     thing forwarded is a new connection from the guest's own address on the guest link to the
 *     service-side uplink address, TCP to the proxy and DNS ports, UDP to the DNS port, plus its
 *     replies. Nothing for the netns itself: the guest cannot talk to the netns, and the netns
 *     starts nothing. IPv6 is switched off by sysctl on every interface (netns.ts), and any IPv6
 *     that still appears is dropped. ARP is not seen by the inet family, so the /30 links work
 *     without a rule; ICMP passes only as `related` to an allowed connection (errors such as
 *     "port unreachable" when the DNS filter is down), never as a new flow (no ping, no tunnel).
 *  2. `inet sandboxed-<slot>` in the service namespace (the root namespace in production). Policy
 *     accept, because it shares the hooks with the host's own firewall, but everything arriving on
 *     the sandbox's uplink is dropped unless it is the guest's address talking to the proxy or
 *     DNS port on the uplink address; nothing is forwarded to or from the uplink; the host only
 *     answers on it. So a misconfigured netns (a default route, no table) still cannot reach the
 *     host's other services, the LAN, 169.254.169.254 or another sandbox.
 *
 * Interfaces are matched by name (`iifname`), which also matches before the interface exists, so
 * both tables are loaded before the links are created (netns.ts) and there is no unguarded moment.
 */
import type { AddressPlan } from "./address-plan.js";

/** The DNS port guests use: resolv.conf cannot name another one (RFC 1035 §4.2). */
export const GUEST_DNS_PORT = 53;

export const SANDBOX_TABLE = "sandboxed";

export function serviceTableName(slot: number): string {
  return `sandboxed-${slot}`;
}

export interface FirewallSpec {
  readonly plan: AddressPlan;
  /** The sandbox's egress proxy, listening on the uplink's service-side address. */
  readonly proxyPort: number;
  /** The DNS filter's port on the uplink's service-side address. 53 unless it runs unprivileged. */
  readonly dnsPort: number;
}

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`${name} ${port} is not a TCP/UDP port (1..65535)`);
  }
}

function tcpPorts(spec: FirewallSpec): string {
  return spec.proxyPort === spec.dnsPort
    ? String(spec.proxyPort)
    : `{ ${Math.min(spec.proxyPort, spec.dnsPort)}, ${Math.max(spec.proxyPort, spec.dnsPort)} }`;
}

/** Drop any previous copy and load the new one in the same transaction (idempotent re-apply). */
function replaceTable(name: string, body: string[]): string {
  return [
    `add table inet ${name}`,
    `delete table inet ${name}`,
    `table inet ${name} {`,
    ...body.map((l) => (l === "" ? "" : `\t${l}`)),
    "}",
    "",
  ].join("\n");
}

/** The table inside the sandbox netns. */
export function sandboxNetnsRuleset(spec: FirewallSpec): string {
  checkPort("proxyPort", spec.proxyPort);
  checkPort("dnsPort", spec.dnsPort);
  const { plan } = spec;
  const guest = plan.guestLink.far;
  const upstream = plan.uplink.near;
  const fromGuest = `iifname "${plan.guestIf}" oifname "${plan.netnsIf}" ip saddr ${guest} ip daddr ${upstream}`;
  const body = [
    // Counts only (no verdict): guest packets that did not head for the proxy or the DNS filter.
    // Most of them die for want of a route before any filter chain sees them, so this is where
    // the job report gets its evidence of direct attempts.
    "chain account {",
    "\ttype filter hook prerouting priority raw; policy accept;",
    `\tiifname "${plan.guestIf}" ip daddr 169.254.0.0/16 counter comment "direct attempt: link-local or metadata"`,
    `\tiifname "${plan.guestIf}" ip daddr != { ${upstream}, 169.254.0.0/16 } counter comment "direct attempt"`,
    `\tiifname "${plan.guestIf}" ip daddr ${upstream} meta l4proto icmp counter comment "direct attempt: ICMP"`,
    "}",
    "",
    "chain forward {",
    "\ttype filter hook forward priority filter; policy drop;",
    "\tct state invalid drop",
    // Replies, and ICMP errors about connections allowed below.
    "\tct state established,related accept",
    // Explicit and counted, although the policy would drop them too: evidence for the job report.
    '\tmeta nfproto ipv6 counter drop comment "no IPv6 (issue 4)"',
    '\tip daddr 169.254.0.0/16 counter drop comment "link-local and metadata (RFC 3927)"',
    `\t${fromGuest} tcp dport ${tcpPorts(spec)} ct state new accept`,
    `\t${fromGuest} udp dport ${spec.dnsPort} ct state new accept`,
    '\tcounter drop comment "denied"',
    "}",
    "",
    "chain input {",
    "\ttype filter hook input priority filter; policy drop;",
    '\tiifname "lo" accept',
    "}",
    "",
    "chain output {",
    "\ttype filter hook output priority filter; policy drop;",
    '\toifname "lo" accept',
    "}",
  ];
  if (spec.dnsPort !== GUEST_DNS_PORT) {
    // The guest asks port 53; an unprivileged DNS filter listens elsewhere. Rewrite before
    // routing, so the forward chain above sees (and allows) only the real port.
    body.push(
      "",
      "chain prerouting {",
      "\ttype nat hook prerouting priority dstnat; policy accept;",
      `\tiifname "${plan.guestIf}" ip daddr ${upstream} meta l4proto { tcp, udp } th dport ${GUEST_DNS_PORT} dnat ip to ${upstream}:${spec.dnsPort}`,
      "}",
    );
  }
  return replaceTable(SANDBOX_TABLE, body);
}

/** The table in the service namespace, guarding the service-side end of the uplink. */
export function serviceNamespaceRuleset(spec: FirewallSpec): string {
  checkPort("proxyPort", spec.proxyPort);
  checkPort("dnsPort", spec.dnsPort);
  const { plan } = spec;
  const iif = `iifname "${plan.hostIf}"`;
  const oif = `oifname "${plan.hostIf}"`;
  const allowed = `${iif} ip saddr ${plan.guestLink.far} ip daddr ${plan.uplink.near}`;
  return replaceTable(serviceTableName(plan.slot), [
    "chain input {",
    // Policy accept: this namespace's other traffic belongs to the host's own firewall.
    "\ttype filter hook input priority filter; policy accept;",
    `\t${iif} ct state invalid drop`,
    `\t${iif} ct state established,related accept`,
    `\t${allowed} tcp dport ${tcpPorts(spec)} ct state new accept`,
    `\t${allowed} udp dport ${spec.dnsPort} ct state new accept`,
    `\t${iif} counter drop`,
    "}",
    "",
    "chain forward {",
    "\ttype filter hook forward priority filter; policy accept;",
    `\t${iif} counter drop`,
    `\t${oif} counter drop`,
    "}",
    "",
    "chain output {",
    "\ttype filter hook output priority filter; policy accept;",
    // The host answers the guest; it never opens a connection into a sandbox.
    `\t${oif} ct state established,related accept`,
    `\t${oif} counter drop`,
    "}",
  ]);
}
