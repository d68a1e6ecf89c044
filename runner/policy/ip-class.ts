/**
 * Address classes (STYLE H10): what a destination address is, with a label for people and one
 * for metrics. The proxy (network issue) and the linter both use this table, so a CIDR the linter
 * calls "metadata" is exactly one the proxy refuses.
 */
import ipaddr from "ipaddr.js";

export type IpClass =
  | "public"
  | "private"
  | "shared"
  | "loopback"
  | "link-local"
  | "metadata"
  | "unspecified"
  | "multicast"
  | "reserved";

export const IP_CLASS_LABELS: Readonly<Record<IpClass, { human: string; metric: string }>> = {
  public: { human: "public address", metric: "public" },
  private: { human: "private address", metric: "private" },
  shared: { human: "carrier-grade NAT address", metric: "shared" },
  loopback: { human: "loopback address", metric: "loopback" },
  "link-local": { human: "link-local address", metric: "link_local" },
  metadata: { human: "cloud metadata address", metric: "metadata" },
  unspecified: { human: "unspecified address", metric: "unspecified" },
  multicast: { human: "multicast address", metric: "multicast" },
  reserved: { human: "reserved address", metric: "reserved" },
};

interface Range {
  readonly cidr: string;
  readonly cls: IpClass;
}

/** Most specific first: the first range containing an address decides its class. */
const RANGES: readonly Range[] = [
  // Cloud metadata services. AWS, GCP, Azure, OpenStack IMDS:
  { cidr: "169.254.169.254/32", cls: "metadata" },
  // Azure wireserver (used by the VM agent; reachable from guests on Azure):
  { cidr: "168.63.129.16/32", cls: "metadata" },
  // Alibaba Cloud metadata:
  { cidr: "100.100.100.200/32", cls: "metadata" },
  // AWS IMDS over IPv6 (Nitro):
  { cidr: "fd00:ec2::254/128", cls: "metadata" },
  // RFC 1122 §3.2.1.3: "this network".
  { cidr: "0.0.0.0/8", cls: "unspecified" },
  // RFC 1918 private networks.
  { cidr: "10.0.0.0/8", cls: "private" },
  { cidr: "172.16.0.0/12", cls: "private" },
  { cidr: "192.168.0.0/16", cls: "private" },
  // RFC 6598 shared address space (carrier-grade NAT); smokescreen treats it as internal too.
  { cidr: "100.64.0.0/10", cls: "shared" },
  // RFC 1122 loopback.
  { cidr: "127.0.0.0/8", cls: "loopback" },
  // RFC 3927 link-local.
  { cidr: "169.254.0.0/16", cls: "link-local" },
  // RFC 6890 IETF protocol assignments; RFC 2544 benchmarking.
  { cidr: "192.0.0.0/24", cls: "reserved" },
  { cidr: "198.18.0.0/15", cls: "reserved" },
  // RFC 5771 multicast; RFC 1112 reserved (includes 255.255.255.255 broadcast).
  { cidr: "224.0.0.0/4", cls: "multicast" },
  { cidr: "240.0.0.0/4", cls: "reserved" },
  // IPv6: RFC 4291 unspecified and loopback, RFC 4193 unique local, RFC 4291 link-local, multicast.
  { cidr: "::/128", cls: "unspecified" },
  { cidr: "::1/128", cls: "loopback" },
  { cidr: "fc00::/7", cls: "private" },
  { cidr: "fe80::/10", cls: "link-local" },
  { cidr: "ff00::/8", cls: "multicast" },
];

type Addr = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Addr, number];

const PARSED: readonly { cidr: Cidr; cls: IpClass }[] = RANGES.map((r) => ({
  cidr: ipaddr.parseCIDR(r.cidr),
  cls: r.cls,
}));

/**
 * IPv6 forms that carry an IPv4 address (RFC 4291 mapped, RFC 6052 NAT64, RFC 3056 6to4) are
 * judged by that IPv4 address: `::ffff:169.254.169.254` is the metadata service.
 */
function embeddedV4(addr: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  if (addr.isIPv4MappedAddress()) return addr.toIPv4Address();
  const parts = addr.parts;
  const bytes = addr.toByteArray();
  if (parts[0] === 0x64 && parts[1] === 0xff9b && parts.slice(2, 6).every((p) => p === 0)) {
    return new ipaddr.IPv4(bytes.slice(12, 16));
  }
  if (parts[0] === 0x2002) return new ipaddr.IPv4(bytes.slice(2, 6));
  return undefined;
}

function normalize(addr: Addr): Addr {
  if (addr.kind() === "ipv6") return embeddedV4(addr as ipaddr.IPv6) ?? addr;
  return addr;
}

/** Class of one address. Throws on text that is not an IP address: callers check first. */
export function classifyAddress(text: string): IpClass {
  const addr = normalize(ipaddr.parse(text.replace(/^\[|\]$/g, "")));
  for (const range of PARSED) {
    if (range.cidr[0].kind() === addr.kind() && addr.match(range.cidr)) return range.cls;
  }
  return "public";
}

export function isIpLiteral(text: string): boolean {
  return ipaddr.isValid(text.replace(/^\[|\]$/g, ""));
}

export type CidrParse =
  | { ok: true; cidr: string; family: 4 | 6; prefix: number }
  | { ok: false; message: string; hint?: string };

/** Parse a CIDR and require normal form: no host bits, canonical text. */
export function parseCidr(text: string): CidrParse {
  // inet_aton reads 010 as octal 8, so "010.0.0.0/8" is 8.0.0.0/8 to some tools and 10.0.0.0/8 to
  // the author: refuse it rather than pick one, and offer the decimal reading.
  const octets = /^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)(\/[0-9]+)?$/.exec(text);
  if (octets && octets.slice(1, 5).some((o) => /^0[0-9]/.test(o))) {
    const decimal = `${octets
      .slice(1, 5)
      .map((o) => String(Number(o)))
      .join(".")}${octets[5] ?? ""}`;
    const fixed = parseCidr(decimal);
    return {
      ok: false,
      message: "has a zero-padded number, which some tools read as octal",
      hint: fixed.ok ? `write ${fixed.cidr}` : (fixed.hint ?? `write ${decimal}`),
    };
  }
  let parsed: Cidr;
  try {
    parsed = ipaddr.parseCIDR(text);
  } catch {
    if (isIpLiteral(text)) {
      const bits = ipaddr.parse(text).kind() === "ipv4" ? 32 : 128;
      return { ok: false, message: "has no prefix length", hint: `write ${text}/${bits}` };
    }
    return { ok: false, message: "is not an IPv4 or IPv6 CIDR", hint: "write e.g. 10.20.0.0/16" };
  }
  const [addr, prefix] = parsed;
  const network =
    addr.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(text)
      : ipaddr.IPv6.networkAddressFromCIDR(text);
  const normal = `${canonical(network)}/${prefix}`;
  if (normal !== text) {
    const why =
      canonical(network) !== canonical(addr) ? "has host bits set" : "is not in normal form";
    return { ok: false, message: why, hint: `write ${normal}` };
  }
  return { ok: true, cidr: normal, family: addr.kind() === "ipv4" ? 4 : 6, prefix };
}

/**
 * Text of an address in normal form. IPv4-mapped IPv6 keeps its dotted quad (RFC 5952 §5), so
 * `::ffff:169.254.169.254` is accepted as written and then judged as the metadata address.
 */
function canonical(addr: Addr): string {
  if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    return `::ffff:${(addr as ipaddr.IPv6).toIPv4Address().toString()}`;
  }
  return addr.toString();
}

function toCidr(text: string): Cidr {
  const [addr, prefix] = ipaddr.parseCIDR(text);
  if (addr.kind() === "ipv6" && prefix >= 96) {
    const v4 = embeddedV4(addr as ipaddr.IPv6);
    if (v4) return [v4, prefix - 96];
  }
  return [addr, prefix];
}

/** Does CIDR `outer` contain every address of CIDR `inner`? */
export function cidrContains(outer: string, inner: string): boolean {
  const [oa, op] = toCidr(outer);
  const [ia, ip] = toCidr(inner);
  return oa.kind() === ia.kind() && op <= ip && ia.match([oa, op] as never);
}

/** IPv6 prefixes that carry an IPv4 address, and the bit where it starts (see embeddedV4). */
const EMBEDDINGS: readonly { prefix: Cidr; offset: number }[] = [
  { prefix: ipaddr.parseCIDR("::ffff:0:0/96"), offset: 96 }, // RFC 4291 IPv4-mapped
  { prefix: ipaddr.parseCIDR("64:ff9b::/96"), offset: 96 }, // RFC 6052 NAT64
  { prefix: ipaddr.parseCIDR("2002::/16"), offset: 16 }, // RFC 3056 6to4
];

/**
 * The IPv4 networks an IPv6 CIDR reaches through those embeddings: 2002::/16 reaches all of IPv4
 * (the metadata service too), and so does any CIDR containing it, such as 2000::/3.
 */
function embeddedV4Cidrs(addr: ipaddr.IPv6, prefix: number): Cidr[] {
  const out: Cidr[] = [];
  for (const {
    prefix: [ea, ep],
    offset,
  } of EMBEDDINGS) {
    if (prefix <= ep) {
      if (ea.match([addr, prefix] as never)) out.push([new ipaddr.IPv4([0, 0, 0, 0]), 0]);
    } else if (addr.match([ea, ep] as never)) {
      const bytes = addr.toByteArray().slice(offset / 8, offset / 8 + 4);
      out.push([new ipaddr.IPv4(bytes), Math.min(prefix - offset, 32)]);
    }
  }
  return out;
}

function overlapping([addr, prefix]: Cidr): IpClass[] {
  const out: IpClass[] = [];
  for (const range of PARSED) {
    const [ra, rp] = range.cidr;
    if (ra.kind() !== addr.kind()) continue;
    const overlaps =
      prefix <= rp ? ra.match([addr, prefix] as never) : addr.match([ra, rp] as never);
    if (overlaps) out.push(range.cls);
  }
  return out;
}

/** Every special class a CIDR reaches (overlaps), most specific first, then via embedded IPv4. */
export function classesInCidr(text: string): IpClass[] {
  const cidr = ipaddr.parseCIDR(text);
  const classes = overlapping(cidr);
  if (cidr[0].kind() === "ipv6") {
    for (const v4 of embeddedV4Cidrs(cidr[0] as ipaddr.IPv6, cidr[1]))
      classes.push(...overlapping(v4));
  }
  return [...new Set(classes)];
}
