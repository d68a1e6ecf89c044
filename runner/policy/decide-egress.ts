/**
 * Egress decisions (STYLE H9): may a sandbox reach host:port, and may a resolved address be
 * dialled? Pure functions shared by the egress proxy and the DNS filter (issue 4); the proxy adds
 * only what needs bytes on the wire (SNI, Host header) on top of these verdicts.
 */
import ipaddr from "ipaddr.js";
import { hostMatches } from "./host-pattern.js";
import { cidrContains, classifyAddress, isIpLiteral } from "./ip-class.js";
import type { IpClass } from "./ip-class.js";
import type { AllowRule, ResolvedPolicy } from "./types.js";

export type NetworkPolicy = ResolvedPolicy["network"];

/** Why a verdict was reached. Closed: tests assert these, and logs carry them verbatim. */
export type EgressReason =
  /** network.mode: none. */
  | "mode-none"
  /** The host is neither a valid DNS name nor an IP literal. */
  | "invalid-host"
  /** An IP literal that no cidr rule (with that port) contains. */
  | "ip-literal"
  /** A name that no host rule matches. */
  | "no-matching-rule"
  /** A rule matches the name, but none of the matching rules lists the port. */
  | "port-not-allowed"
  /** A resolved address in a non-public class that no cidr rule allows. */
  | "forbidden-address"
  /** The address given to decideAddress is not an IP address. */
  | "invalid-address"
  /** Allowed: a host rule matched name and port. */
  | "host-rule"
  /** Allowed: a cidr rule contains the address and lists the port. */
  | "cidr-rule"
  /** Allowed: the resolved address is public. */
  | "public-address"
  /** Audit mode: allowed whatever enforcement says; see wouldDeny and wouldReason. */
  | "audit"
  /** Defensive: a mode this code does not know. Never allows. */
  | "unknown-mode";

export interface EgressVerdict {
  readonly verdict: "allow" | "deny";
  readonly reason: EgressReason;
  /** The rule that allowed (or, in audit mode, would have allowed). */
  readonly rule?: AllowRule;
  /** Audit mode only: would enforcement have denied? */
  readonly wouldDeny?: boolean;
  /** Audit mode only: the reason enforcement would have given. */
  readonly wouldReason?: EgressReason;
  /** decideAddress only: the class of the address. */
  readonly addressClass?: IpClass;
}

/**
 * A destination. `port: "any"` asks "on any port of the matching rules": the DNS filter knows a
 * name but not the port the client will use next.
 */
export interface EgressRequest {
  readonly host: string;
  readonly port: number | "any";
}

// Same label shape the policy linter accepts (host-pattern.ts), so "allowed" means one thing.
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;
// A name whose last label is all digits or hex is an IP literal in some resolvers (WHATWG URL
// treats "1.2.3.4.5" as a failed IPv4 parse): never a name we allow.
const NUMERIC_TLD = /^(0x[0-9a-f]*|[0-9]+)$/;

export type NormalHost =
  | { readonly kind: "name"; readonly host: string }
  | { readonly kind: "ip"; readonly host: string }
  | { readonly kind: "invalid" };

/**
 * Normal form of a host as a client wrote it: lowercase, one trailing dot removed, IP literals in
 * canonical text (`2130706433`, `127.1` and `0x7f.0.0.1` are all 127.0.0.1), brackets stripped.
 */
export function normalizeHost(text: string): NormalHost {
  let host = text.toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return { kind: "invalid" };
  if (isIpLiteral(host)) {
    // A zone id (fe80::1%eth0) names an interface on this host: never a destination.
    if (host.includes("%")) return { kind: "invalid" };
    return { kind: "ip", host: ipaddr.parse(host.replace(/^\[|\]$/g, "")).toString() };
  }
  const labels = host.split(".");
  if (!labels.every((l) => LABEL.test(l))) return { kind: "invalid" };
  if (NUMERIC_TLD.test(labels[labels.length - 1]!)) return { kind: "invalid" };
  return { kind: "name", host };
}

const portOk = (rule: AllowRule, port: number | "any"): boolean =>
  port === "any" || rule.ports.includes(port);

const cidrRules = (network: NetworkPolicy) =>
  network.allow.filter((r): r is Extract<AllowRule, { kind: "cidr" }> => r.kind === "cidr");

function addressCidr(address: string): string {
  return `${address}/${address.includes(":") ? 128 : 32}`;
}

function cidrRuleFor(
  network: NetworkPolicy,
  address: string,
  port: number | "any",
): AllowRule | undefined {
  const cidr = addressCidr(address);
  return cidrRules(network).find((r) => portOk(r, port) && cidrContains(r.cidr, cidr));
}

/** The verdict enforcement gives, before audit mode is applied. */
function enforcedEgress(network: NetworkPolicy, req: EgressRequest): EgressVerdict {
  const normal = normalizeHost(req.host);
  switch (normal.kind) {
    case "invalid":
      return { verdict: "deny", reason: "invalid-host" };
    case "ip": {
      const rule = cidrRuleFor(network, normal.host, req.port);
      return rule ? { verdict: "allow", reason: "cidr-rule", rule } : deny("ip-literal");
    }
    case "name": {
      const matching = network.allow.filter(
        (r) => r.kind === "host" && hostMatches(r, normal.host),
      );
      const rule = matching.find((r) => portOk(r, req.port));
      if (rule) return { verdict: "allow", reason: "host-rule", rule };
      return deny(matching.length > 0 ? "port-not-allowed" : "no-matching-rule");
    }
    default:
      return unreachable(normal);
  }
}

function enforcedAddress(
  network: NetworkPolicy,
  req: EgressRequest,
  address: string,
): EgressVerdict {
  const normal = normalizeHost(address);
  if (normal.kind !== "ip") return deny("invalid-address");
  const addressClass = classifyAddress(normal.host);
  if (addressClass === "public")
    return { verdict: "allow", reason: "public-address", addressClass };
  const rule = cidrRuleFor(network, normal.host, req.port);
  if (rule) return { verdict: "allow", reason: "cidr-rule", rule, addressClass };
  return { verdict: "deny", reason: "forbidden-address", addressClass };
}

/**
 * May the sandbox reach `req.host:req.port`? Evaluation order:
 *  1. `mode: none` denies everything ("mode-none").
 *  2. The host is normalised (lowercase, one trailing dot stripped); anything that is neither a
 *     DNS name nor an IP literal is denied ("invalid-host").
 *  3. An IP literal is allowed only by a cidr rule that contains it and lists the port
 *     ("cidr-rule"); otherwise "ip-literal". Host rules never allow an address.
 *  4. A name is allowed by the first host rule that matches it (hostMatches: `*.x` matches below
 *     x, not x itself) and lists the port ("host-rule"). If rules match the name but none lists
 *     the port: "port-not-allowed". If none match: "no-matching-rule".
 *  5. `mode: audit` turns every verdict into allow with reason "audit", keeping the enforced
 *     reason in `wouldReason` and `wouldDeny`.
 * An allowed name still needs decideAddress for each address it resolves to.
 */
export function decideEgress(network: NetworkPolicy, req: EgressRequest): EgressVerdict {
  switch (network.mode) {
    case "none":
      return deny("mode-none");
    case "allowlist":
      return enforcedEgress(network, req);
    case "audit":
      return audited(enforcedEgress(network, req));
    default:
      return unreachable(network.mode);
  }
}

/**
 * May the proxy dial `address`, which it resolved for `req.host`? Evaluation order:
 *  1. `mode: none` denies everything.
 *  2. Text that is not an IP address is denied ("invalid-address").
 *  3. A public address is allowed ("public-address"): the name was already allowed.
 *  4. Any other class (private, shared, loopback, link-local, metadata, unspecified, multicast,
 *     reserved; IPv4 inside IPv6 judged as the IPv4 address) is allowed only by a cidr rule that
 *     contains it and lists the port ("cidr-rule"), else "forbidden-address" with its class. This
 *     is what stops DNS rebinding to 127.0.0.1 or 169.254.169.254.
 *  5. `mode: audit` allows, reporting wouldDeny as decideEgress does.
 */
export function decideAddress(
  network: NetworkPolicy,
  req: EgressRequest,
  address: string,
): EgressVerdict {
  switch (network.mode) {
    case "none":
      return deny("mode-none");
    case "allowlist":
      return enforcedAddress(network, req, address);
    case "audit":
      return audited(enforcedAddress(network, req, address));
    default:
      return unreachable(network.mode);
  }
}

function audited(enforced: EgressVerdict): EgressVerdict {
  return {
    ...enforced,
    verdict: "allow",
    reason: "audit",
    wouldDeny: enforced.verdict === "deny",
    wouldReason: enforced.reason,
  };
}

function deny(reason: EgressReason): EgressVerdict {
  return { verdict: "deny", reason };
}

/** Exhaustiveness guard (H9): a new mode or host kind fails to compile, and at run time denies. */
function unreachable(_value: never): EgressVerdict {
  return deny("unknown-mode");
}
