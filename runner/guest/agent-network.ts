/**
 * The guest side of the network: its one interface, resolver and proxy, and the in-guest
 * nftables baseline. Run by the agent (agent.ts) as root before any step.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { JobConfig } from "./protocol.js";

function sh(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
}

/**
 * The guest's one interface, resolver and proxy, and the in-guest nftables baseline: only the
 * proxy and the DNS filter are reachable. This is defence in depth: guest root can flush it, and
 * the host-side namespace enforces the same thing where the guest cannot reach (issue 4).
 */
export function setupNetwork(net: NonNullable<JobConfig["network"]>): void {
  sh("modprobe", ["-q", "virtio_net"]);
  let iface = "";
  for (let attempt = 0; attempt < 250 && !iface; attempt++) {
    for (const name of readdirSync("/sys/class/net")) {
      try {
        if (readFileSync(`/sys/class/net/${name}/address`, "utf8").trim() === net.mac) iface = name;
      } catch {
        // not ready
      }
    }
    if (!iface) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  if (!iface) throw new Error(`no network interface with MAC ${net.mac}`);
  sh("sysctl", ["-q", "-w", "net.ipv6.conf.all.disable_ipv6=1"]);
  sh("ip", ["addr", "add", `${net.address}/${net.prefix}`, "dev", iface]);
  sh("ip", ["link", "set", iface, "up"]);
  sh("ip", ["route", "add", "default", "via", net.gateway]);
  writeFileSync("/etc/resolv.conf", `nameserver ${net.dns}\noptions timeout:2 attempts:2\n`);
  const rules = [
    "table inet sandboxed {",
    "  chain output {",
    "    type filter hook output priority 0; policy drop;",
    '    oif "lo" accept',
    "    ct state established,related accept",
    `    ip daddr ${net.proxy.host} tcp dport ${net.proxy.port} accept`,
    `    ip daddr ${net.dns} udp dport 53 accept`,
    `    ip daddr ${net.dns} tcp dport 53 accept`,
    "  }",
    "}",
  ].join("\n");
  execFileSync("nft", ["-f", "-"], { input: rules, stdio: ["pipe", "ignore", "inherit"] });
}

export function proxyEnv(net: JobConfig["network"]): Record<string, string> {
  if (!net) return {};
  const url = `http://${net.proxy.host}:${net.proxy.port}`;
  const noProxy = "localhost,127.0.0.1,::1";
  return {
    HTTP_PROXY: url,
    HTTPS_PROXY: url,
    http_proxy: url,
    https_proxy: url,
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}
