/**
 * A sandbox's network (issue 4): its own network namespace `sbx-<id>` holding the guest link
 * (a persistent tap0 for QEMU, or a veth into a guest namespace for containers and tests), the
 * netns end of a veth uplink to the service namespace where the proxy and DNS filter listen, an
 * nftables table, and tc caps. QEMU joins it with `nsenter --net=<netnsPath>`. A container's
 * guest namespace is its own, made by Docker, and only named here (`guestPid`, issue 7).
 *
 * Every host resource is recorded in the sandbox's journal before it is created (DESIGN decision
 * 6). Deleting the netns deletes everything inside it (tap, veth ends, routes, its nft table and
 * qdiscs: the kernel unregisters tun and veth devices of a dying namespace); the service-side veth
 * end goes with its peer, and is recorded anyway; the service namespace's table is recorded as
 * `nft-table` and must be deleted by name.
 */
import { addressPlan } from "./address-plan.js";
import type { AddressPlan } from "./address-plan.js";
import { stat } from "node:fs/promises";
import { execa } from "execa";
import { SandboxedError } from "../errors/index.js";
import { applyNft, inNetns, ip, runInNetns, sysctl } from "./ns-exec.js";
import {
  GUEST_DNS_PORT,
  sandboxNetnsRuleset,
  serviceNamespaceRuleset,
  serviceTableName,
} from "./nft.js";
import { bandwidthCommands } from "./tc.js";
import type { BandwidthCaps } from "./tc.js";

/** The records this area writes; a subset of the sandbox journal's `ResourceRecord`. */
export type NetworkResourceRecord =
  | { readonly kind: "netns"; readonly name: string }
  /** `netns` absent: the runner's own namespace. */
  | { readonly kind: "link"; readonly name: string; readonly netns?: string }
  | {
      readonly kind: "nft-table";
      readonly family: "inet";
      readonly name: string;
      readonly netns?: string;
    };

/** What netns.ts needs of a sandbox journal (sandbox/records.ts `Journal`). */
export interface NetworkJournal {
  record(resource: NetworkResourceRecord): void;
}

export type GuestLink = "tap" | "veth";

export interface SandboxNetworkOptions {
  readonly id: string;
  readonly slot: number;
  readonly journal: NetworkJournal;
  readonly bandwidth: BandwidthCaps;
  readonly proxyPort: number;
  readonly dnsPort: number;
  /** Owner of the persistent tap, so the unprivileged QEMU of this sandbox can attach to it. */
  readonly tapOwnerUid?: number;
  /** Where the proxy and DNS filter listen; undefined: this process's namespace. */
  readonly serviceNetns?: string;
  /**
   * `tap` (default): for a VM. `veth`: the guest is a network namespace `sbxg-<id>` with `eth0`
   * (container backends, and integration tests: a tap with no VM behind it has no carrier).
   */
  readonly guestLink?: GuestLink;
  /**
   * veth mode only: the guest namespace already exists, made by someone else (Docker's
   * `NetworkMode: none` container): it is the network namespace of this process, named `sbxg-<id>`
   * with `ip netns attach` instead of created. Removing the name leaves the namespace to its
   * owner; the links inside go when the sandbox netns (and with it the veth's other end) does.
   */
  readonly guestPid?: number;
}

export interface SandboxNetwork {
  readonly id: string;
  readonly plan: AddressPlan;
  readonly netns: string;
  /** For `nsenter --net=<netnsPath>`. */
  readonly netnsPath: string;
  /** veth mode: the namespace playing the guest. */
  readonly guestNetns?: string;
  readonly guestNetnsPath?: string;
  readonly guestAddress: string;
  readonly gateway: string;
  readonly prefixLength: number;
  /** What the guest uses as HTTP(S)_PROXY and resolver. */
  readonly proxy: { readonly host: string; readonly port: number };
  readonly dns: { readonly host: string; readonly port: number };
}

export const netnsName = (id: string): string => `sbx-${id}`;
export const guestNetnsName = (id: string): string => `sbxg-${id}`;
export const netnsPath = (name: string): string => `/run/netns/${name}`;

/** No IPv6 at all: no link-local addresses, no router advertisements, no ND (issue 4). */
const NO_IPV6 = {
  "net.ipv6.conf.all.disable_ipv6": "1",
  "net.ipv6.conf.default.disable_ipv6": "1",
};

/**
 * Create (or, with `attachPid`, name the existing namespace of that process) and set it up. The
 * name is recorded first either way: `ip netns del` of an attached name only removes the name.
 */
async function createNamespace(
  journal: NetworkJournal,
  name: string,
  forward: boolean,
  attachPid?: number,
) {
  journal.record({ kind: "netns", name });
  if (attachPid === undefined) {
    await ip(undefined, ["netns", "add", name], `create netns ${name}`);
  } else {
    await ip(undefined, ["netns", "attach", name, String(attachPid)], `attach netns ${name}`);
  }
  // Before any interface exists, so every interface inherits `default`. In an attached namespace
  // only `lo` may already exist: writing `all.disable_ipv6` applies to existing interfaces too,
  // and the effective rp_filter is the maximum of `all` and the interface's own.
  await sysctl(
    name,
    {
      ...NO_IPV6,
      "net.ipv4.ip_forward": forward ? "1" : "0",
      // Strict reverse-path filter: a guest cannot send with another link's source address.
      "net.ipv4.conf.all.rp_filter": "1",
      "net.ipv4.conf.default.rp_filter": "1",
    },
    `sysctls of ${name}`,
  );
  await ip(name, ["link", "set", "lo", "up"], `loopback of ${name}`);
}

/**
 * The namespace to attach must be the process's own, not the runner's or the service one: the
 * guest sysctls (no forwarding, no IPv6) and the guest link would land on the host. A process that
 * has not yet left the runner's namespace (a container still starting) is refused, not attached.
 */
async function assertForeignNetns(pid: number, service: string | undefined): Promise<void> {
  const id = async (p: string) => {
    const s = await stat(p);
    return `${s.dev}:${s.ino}`;
  };
  const step = `network namespace of process ${pid}`;
  const fail = (why: string) =>
    new SandboxedError("SBX_NETWORK_SETUP", `sandbox network step "${step}" failed: ${why}`, {
      hint: "the container must be running with its own network namespace (NetworkMode none)",
    });
  const theirs = await id(`/proc/${pid}/ns/net`).catch((error: unknown) => {
    throw fail(String((error as Error).message));
  });
  const ours = [await id("/proc/self/ns/net")];
  if (service !== undefined) ours.push(await id(netnsPath(service)));
  if (ours.includes(theirs)) throw fail("it is the runner's own or the service namespace");
}

/**
 * Create the network of one sandbox. Order matters: the namespace and its sysctls first, then both
 * nft tables (they match interfaces by name, so they guard the links from the moment they appear),
 * then the links, addresses and routes, then the caps. On failure the caller removes what the
 * journal recorded.
 */
export async function createSandboxNetwork(
  options: SandboxNetworkOptions,
): Promise<SandboxNetwork> {
  const { id, journal } = options;
  const plan = addressPlan(options.slot);
  const netns = netnsName(id);
  const service = options.serviceNetns;
  const guestLink = options.guestLink ?? "tap";
  if (guestLink === "tap" && options.tapOwnerUid === undefined) {
    throw new TypeError("createSandboxNetwork: guestLink tap needs tapOwnerUid");
  }
  if (options.guestPid !== undefined) {
    if (guestLink !== "veth") {
      throw new TypeError("createSandboxNetwork: guestPid needs guestLink veth");
    }
    if (!Number.isInteger(options.guestPid) || options.guestPid <= 0) {
      throw new TypeError(`createSandboxNetwork: bad guestPid ${String(options.guestPid)}`);
    }
    await assertForeignNetns(options.guestPid, service);
  }
  const firewall = { plan, proxyPort: options.proxyPort, dnsPort: options.dnsPort };

  await createNamespace(journal, netns, true);
  await applyNft(netns, sandboxNetnsRuleset(firewall), "nft table of the sandbox netns");

  const serviceTable = serviceTableName(plan.slot);
  journal.record({
    kind: "nft-table",
    family: "inet",
    name: serviceTable,
    ...(service === undefined ? {} : { netns: service }),
  });
  await applyNft(service, serviceNamespaceRuleset(firewall), "nft table of the service namespace");

  // The uplink: created in the service namespace with its peer born inside the sandbox netns, so
  // no end ever sits in a namespace it does not belong to. Deleting the netns deletes both ends.
  journal.record({
    kind: "link",
    name: plan.hostIf,
    ...(service === undefined ? {} : { netns: service }),
  });
  await ip(
    service,
    ["link", "add", plan.hostIf, "type", "veth", "peer", "name", plan.netnsIf, "netns", netns],
    "create uplink veth",
  );
  // The service namespace keeps IPv6 for its own use; this one interface gets none. `-e`: a host
  // booted with ipv6.disable=1 has no such key, which is just as good.
  await runInNetns(
    service,
    "sysctl",
    ["-q", "-e", "-w", `net.ipv6.conf.${plan.hostIf}.disable_ipv6=1`],
    {
      step: "no IPv6 on the uplink",
    },
  );
  const cidr = (addr: string) => `${addr}/${plan.uplink.prefixLength}`;
  await ip(
    service,
    ["addr", "add", cidr(plan.uplink.near), "dev", plan.hostIf],
    "uplink address (service side)",
  );
  await ip(service, ["link", "set", plan.hostIf, "up"], "uplink up (service side)");
  // Replies to the guest: its /30 is reached through the netns (no NAT, so the proxy sees the
  // guest's own address). The route goes with the interface.
  await ip(
    service,
    ["route", "add", plan.guestLink.subnet, "via", plan.uplink.far, "dev", plan.hostIf],
    "route to the guest link",
  );
  await ip(
    netns,
    ["addr", "add", cidr(plan.uplink.far), "dev", plan.netnsIf],
    "uplink address (netns side)",
  );
  await ip(netns, ["link", "set", plan.netnsIf, "up"], "uplink up (netns side)");
  // No default route in the netns: the guest can reach the uplink's service side and nothing else,
  // even before the nft table is consulted.

  let guestNetns: string | undefined;
  if (guestLink === "tap") {
    // Persistent, owned by the sandbox uid: QEMU, unprivileged inside this netns, opens it by name.
    await ip(
      netns,
      [
        "tuntap",
        "add",
        plan.guestIf,
        "mode",
        "tap",
        "user",
        String(options.tapOwnerUid),
        "vnet_hdr",
      ],
      "create tap",
    );
  } else {
    guestNetns = guestNetnsName(id);
    await createNamespace(journal, guestNetns, false, options.guestPid);
    await ip(
      netns,
      [
        "link",
        "add",
        plan.guestIf,
        "type",
        "veth",
        "peer",
        "name",
        plan.guestPeerIf,
        "netns",
        guestNetns,
      ],
      "create guest veth",
    );
    await ip(
      guestNetns,
      [
        "addr",
        "add",
        `${plan.guestLink.far}/${plan.guestLink.prefixLength}`,
        "dev",
        plan.guestPeerIf,
      ],
      "guest address",
    );
    await ip(guestNetns, ["link", "set", plan.guestPeerIf, "up"], "guest link up");
    await ip(
      guestNetns,
      ["route", "add", "default", "via", plan.guestLink.near],
      "guest default route",
    );
  }
  await ip(
    netns,
    ["addr", "add", `${plan.guestLink.near}/${plan.guestLink.prefixLength}`, "dev", plan.guestIf],
    "gateway address",
  );
  await ip(netns, ["link", "set", plan.guestIf, "up"], "guest link up (netns side)");

  for (const args of bandwidthCommands(plan, options.bandwidth)) {
    await runInNetns(netns, "tc", args, { step: `bandwidth cap on ${args[3]}` });
  }

  return {
    id,
    plan,
    netns,
    netnsPath: netnsPath(netns),
    ...(guestNetns === undefined ? {} : { guestNetns, guestNetnsPath: netnsPath(guestNetns) }),
    guestAddress: plan.guestLink.far,
    gateway: plan.guestLink.near,
    prefixLength: plan.guestLink.prefixLength,
    proxy: { host: plan.uplink.near, port: options.proxyPort },
    dns: { host: plan.uplink.near, port: GUEST_DNS_PORT },
  };
}

/**
 * Remove one resource this area records; "already gone" is success, any other failure throws.
 * sandbox/cleanup.ts delegates the kinds it does not know (`nft-table`, and `link` with a
 * `netns`) here.
 */
export async function removeNetworkResource(resource: NetworkResourceRecord): Promise<void> {
  switch (resource.kind) {
    case "netns":
      if (!(await netnsExists(resource.name))) return;
      await ip(undefined, ["netns", "del", resource.name], `delete netns ${resource.name}`);
      return;
    case "link": {
      // A link in a namespace that is gone went with it.
      if (resource.netns !== undefined && !(await netnsExists(resource.netns))) return;
      const show = inNetns(undefined, "ip", [
        ...(resource.netns === undefined ? [] : ["-n", resource.netns]),
        "link",
        "show",
        resource.name,
      ]);
      if ((await execa(show.file, show.args, { reject: false })).exitCode !== 0) return;
      await ip(resource.netns, ["link", "del", resource.name], `delete link ${resource.name}`);
      return;
    }
    case "nft-table": {
      if (resource.netns !== undefined && !(await netnsExists(resource.netns))) return;
      const tables = await runInNetns(resource.netns, "nft", ["list", "tables"], {
        step: "list nft tables",
      });
      if (!tables.split("\n").includes(`table ${resource.family} ${resource.name}`)) return;
      await runInNetns(resource.netns, "nft", ["delete", "table", resource.family, resource.name], {
        step: `delete nft table ${resource.name}`,
      });
      return;
    }
    default: {
      const never: never = resource;
      throw new Error(`unknown network resource in record: ${JSON.stringify(never)}`);
    }
  }
}

async function netnsExists(name: string): Promise<boolean> {
  const list = await ip(undefined, ["netns", "list"], "list netns");
  return list.split("\n").some((l) => l.split(" ")[0] === name);
}
