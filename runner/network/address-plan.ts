/**
 * Per-sandbox addresses and interface names, derived from a slot number (issue 4). Pure: no I/O.
 *
 * Each slot owns two /30s, so 16,384 slots fill exactly one /16 each:
 *  - the guest link (tap0, or a veth in a container's namespace) in 10.203.0.0/16: `.1` is the
 *    gateway address on the sandbox netns side, `.2` the guest;
 *  - the uplink veth pair between the service namespace (where the proxy and DNS filter listen)
 *    and the sandbox netns in 10.204.0.0/16: `.1` on the service side (the address the guest's
 *    proxy and resolver settings point at), `.2` on the netns side.
 * Both ranges are RFC 1918 private space; a host whose LAN already uses them must not run sandboxes
 * (docs/prod-host-setup.md). A /30 is the smallest IPv4 subnet with two usable hosts (RFC 3021's
 * /31 would do, but not every guest stack accepts it).
 */

export const NET_SLOTS = 16_384;

/** First octets of the two /16s (RFC 1918, 10.0.0.0/8). */
export const GUEST_LINK_PREFIX = [10, 203] as const;
export const UPLINK_PREFIX = [10, 204] as const;

/** Linux IFNAMSIZ is 16 including the terminating NUL. */
export const MAX_IFNAME = 15;

export interface PointToPoint {
  /** The subnet in CIDR form, e.g. `10.203.0.4/30`. */
  readonly subnet: string;
  /** `.1` of the /30. */
  readonly near: string;
  /** `.2` of the /30. */
  readonly far: string;
  readonly prefixLength: 30;
}

export interface AddressPlan {
  readonly slot: number;
  /** Sandbox netns side = gateway (`near`), guest (`far`). */
  readonly guestLink: PointToPoint;
  /** Service namespace side (`near`), sandbox netns side (`far`). */
  readonly uplink: PointToPoint;
  /** The uplink end in the service namespace. */
  readonly hostIf: string;
  /** The uplink end in the sandbox netns. */
  readonly netnsIf: string;
  /** The guest link in the sandbox netns (tap or veth). */
  readonly guestIf: string;
  /** The guest's own interface name when the guest is a namespace (veth mode). */
  readonly guestPeerIf: string;
}

function pointToPoint(prefix: readonly [number, number], slot: number): PointToPoint {
  const base = slot * 4; // offset of the /30 inside the /16
  const a = prefix[0];
  const b = prefix[1];
  const c = base >> 8;
  const d = base & 0xff;
  return {
    subnet: `${a}.${b}.${c}.${d}/30`,
    near: `${a}.${b}.${c}.${d + 1}`,
    far: `${a}.${b}.${c}.${d + 2}`,
    prefixLength: 30,
  };
}

export function isValidSlot(slot: number): boolean {
  return Number.isInteger(slot) && slot >= 0 && slot < NET_SLOTS;
}

/** The plan for a slot in 0..16383; a slot outside that range is a programming error. */
export function addressPlan(slot: number): AddressPlan {
  if (!isValidSlot(slot)) {
    throw new RangeError(`network slot ${slot} is outside 0..${NET_SLOTS - 1}`);
  }
  return {
    slot,
    guestLink: pointToPoint(GUEST_LINK_PREFIX, slot),
    uplink: pointToPoint(UPLINK_PREFIX, slot),
    // "sbxh-16383" is 10 characters: every slot fits IFNAMSIZ.
    hostIf: `sbxh-${slot}`,
    netnsIf: `sbxn-${slot}`,
    // Names inside the sandbox netns need not be unique across sandboxes.
    guestIf: "tap0",
    guestPeerIf: "eth0",
  };
}
