/**
 * Everything one sandbox needs to reach the network under its policy, started in order and
 * recorded for removal: a network slot, the namespace with its links, nftables and tc caps
 * (netns.ts), then the DNS filter and the egress proxy listening on the service side of the
 * uplink. `network.mode: none` never gets here: the guest then has no NIC at all.
 */
import { lookup } from "node:dns/promises";
import { randomBytes } from "node:crypto";
import type { ResolvedPolicy } from "../policy/index.js";
import { createDnsFilter } from "./dns-filter.js";
import { allocateNetSlot } from "./net-slots.js";
import { execa } from "execa";
import { createSandboxNetwork } from "./netns.js";
import { SANDBOX_TABLE } from "./nft.js";
import type { NetworkJournal } from "./netns.js";
import { createEgressProxy } from "./proxy.js";
import { createEgressTally } from "./proxy-status.js";
import type { EgressDecisionLog, Resolver } from "./types.js";

export const PROXY_PORT = 3128;
export const DNS_PORT = 53;

/**
 * The guest link: a tap for a VM (`tapOwnerUid`, its QEMU uid), or a veth into the network
 * namespace of a running container (`containerPid`, e.g. a `NetworkMode: none` container's
 * `State.Pid`), named `sbxg-<id>` for the sandbox's lifetime.
 */
export type SandboxGuestLink =
  | { readonly tapOwnerUid: number; readonly containerPid?: undefined }
  | { readonly containerPid: number; readonly tapOwnerUid?: undefined };

export type SandboxEgressOptions = SandboxEgressCommonOptions & SandboxGuestLink;

export interface SandboxEgressCommonOptions {
  readonly id: string;
  readonly stateDir: string;
  readonly journal: NetworkJournal & {
    record(r: { kind: "lock"; path: string; owner: string }): void;
  };
  readonly network: ResolvedPolicy["network"];
  readonly resolver?: Resolver;
  readonly onDecision?: (log: EgressDecisionLog) => void;
}

export interface SandboxEgress {
  readonly netnsPath: string;
  /** The guest link's name inside the sandbox netns (a tap, or the veth end facing the guest). */
  readonly tap: string;
  /** `containerPid` mode: `/run/netns/sbxg-<id>`, the container's own network namespace. */
  readonly guestNetnsPath?: string;
  readonly guest: {
    readonly mac: string;
    readonly address: string;
    readonly prefix: number;
    readonly gateway: string;
    readonly dns: string;
    readonly proxy: { readonly host: string; readonly port: number };
  };
  decisions(): readonly EgressDecisionLog[];
  /**
   * Packets the sandbox namespace's nftables dropped, by rule comment: direct attempts that never
   * reached the proxy or the DNS filter (no route out, raw sockets, IPv6, metadata, ICMP).
   */
  dropped(): Promise<Readonly<Record<string, number>>>;
  /** Stop the listeners; the namespace and links go with the journal. */
  close(): Promise<void>;
}

/** The host's resolver (in tests: the namespace's resolv.conf points at a test DNS server). */
export const systemResolver: Resolver = async (name) =>
  (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

interface NftRule {
  readonly chain: string;
  readonly comment?: string;
  readonly expr: readonly Record<string, { packets: number } & Record<string, unknown>>[];
}

/** A locally administered unicast MAC, random per sandbox. */
function randomMac(): string {
  const b = randomBytes(5);
  return ["02", ...[...b].map((x) => x.toString(16).padStart(2, "0"))].join(":");
}

export async function startSandboxEgress(options: SandboxEgressOptions): Promise<SandboxEgress> {
  const decisions: EgressDecisionLog[] = [];
  // One tally for the proxy's status page: DNS refusals count as well as the proxy's own.
  const tally = createEgressTally();
  const onDecision = (log: EgressDecisionLog): void => {
    decisions.push(log);
    tally.add(log);
    options.onDecision?.(log);
  };
  const slot = allocateNetSlot(
    options.stateDir,
    (_slot, lock) => options.journal.record({ kind: "lock", path: lock, owner: options.id }),
    options.id,
  );
  const net = await createSandboxNetwork({
    id: options.id,
    slot,
    journal: options.journal,
    bandwidth: {
      egressBps: options.network.bandwidth.egressBps,
      ingressBps: options.network.bandwidth.ingressBps,
    },
    proxyPort: PROXY_PORT,
    dnsPort: DNS_PORT,
    ...(options.containerPid === undefined
      ? { tapOwnerUid: options.tapOwnerUid }
      : { guestLink: "veth" as const, guestPid: options.containerPid }),
  });
  const resolver = options.resolver ?? systemResolver;
  const common = { network: options.network, jobId: options.id, resolver, onDecision };
  const dns = await createDnsFilter({
    ...common,
    listen: { host: net.dns.host, port: net.dns.port },
  });
  const proxy = await createEgressProxy({
    ...common,
    tally,
    listen: { host: net.proxy.host, port: net.proxy.port },
  }).catch(async (error: unknown) => {
    await dns.close();
    throw error;
  });
  return {
    netnsPath: net.netnsPath,
    tap: net.plan.guestIf,
    ...(net.guestNetnsPath === undefined ? {} : { guestNetnsPath: net.guestNetnsPath }),
    guest: {
      mac: randomMac(),
      address: net.guestAddress,
      prefix: net.prefixLength,
      gateway: net.gateway,
      dns: net.dns.host,
      proxy: { host: net.proxy.host, port: net.proxy.port },
    },
    decisions: () => decisions,
    async dropped() {
      const out: Record<string, number> = {};
      // nsenter, not `ip netns exec`: only the network namespace changes.
      const r = await execa(
        "nsenter",
        [`--net=${net.netnsPath}`, "--", "nft", "-j", "list", "table", "inet", SANDBOX_TABLE],
        { reject: false },
      );
      if (r.exitCode !== 0) return out;
      for (const item of (JSON.parse(String(r.stdout)) as { nftables: { rule?: NftRule }[] })
        .nftables) {
        const rule = item.rule;
        if (!rule) continue;
        const counter = rule.expr.find((e) => "counter" in e)?.counter;
        const dropped = rule.expr.some((e) => "drop" in e) || rule.chain === "account";
        const key = rule.comment ?? `${rule.chain} drop`;
        if (counter && dropped) out[key] = (out[key] ?? 0) + counter.packets;
      }
      return out;
    },
    async close() {
      await Promise.allSettled([proxy.close(), dns.close()]);
    },
  };
}
