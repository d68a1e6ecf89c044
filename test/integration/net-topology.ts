/**
 * The safe test world for network suites (DESIGN "This machine"): nothing here is connected to the
 * root namespace, so no packet of a test, leaked or not, can leave this machine or reach its own
 * metadata service at 169.254.169.254.
 *
 *   [sandbox netns sbx-*] --uplink veth--> [sbxt-host] --veth--> [sbxt-internet]
 *
 * - `sbxt-host` plays the runner's service namespace: the service end of every sandbox uplink and
 *   the proxy/DNS listeners live here. Its only route (the default) leads to sbxt-internet, and it
 *   forwards (ip_forward=1), so a sandbox that got past its own tables would really reach the fake
 *   internet and the tests would see it.
 * - `sbxt-internet` holds the "internet": 8.8.8.8 and 1.1.1.1 (DNS, UDP+TCP), 93.184.216.34
 *   (HTTP 80, HTTPS 443 for allowed.test, self-signed), 203.0.113.10 (a forbidden host on 80, 443,
 *   22) and a fake 169.254.169.254 (HTTP). Its routes back cover the sandbox ranges, so replies to
 *   a leak would arrive.
 * Link addresses come from 198.18.0.0/15 (RFC 2544 benchmarking), routed only in these namespaces.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { makeCert } from "../network/fixtures.js";
import type { ResultPromise } from "execa";

export const HOST_NS = "sbxt-host";
export const INTERNET_NS = "sbxt-internet";

export const INTERNET = {
  dns1: "8.8.8.8",
  dns2: "1.1.1.1",
  allowed: "93.184.216.34",
  forbidden: "203.0.113.10",
  metadata: "169.254.169.254",
  /** github.test: the GitHub emulator's front door (a forwarder to the test process). */
  github: "93.184.216.40",
} as const;

const HOST_LINK = { host: "198.18.0.1", internet: "198.18.0.2" };

/** Files the fake internet serves over HTTP(S) at allowed.test (an apt repository, say). */
export const WEB_ROOT = "/run/sbxt-www";

export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "net-fixtures.mjs");

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a command inside a namespace; never throws on a non-zero exit. */
export async function execIn(
  ns: string,
  file: string,
  args: readonly string[],
): Promise<ExecResult> {
  const r = await execa("ip", ["netns", "exec", ns, file, ...args], {
    reject: false,
    timeout: 120_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Like execIn, but throws with the command's stderr. */
export async function mustIn(ns: string, file: string, args: readonly string[]): Promise<string> {
  const r = await execIn(ns, file, args);
  if (r.exitCode !== 0) {
    throw new Error(`in ${ns}: ${file} ${args.join(" ")} exited ${r.exitCode}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** Run a fixture probe (net-fixtures.mjs) inside a namespace. */
export function probe(ns: string, args: readonly string[]): Promise<ExecResult> {
  return execIn(ns, process.execPath, [FIXTURES, ...args]);
}

export interface Server {
  stop(): Promise<void>;
}

/** Start a fixture server inside a namespace and wait for its "ready" line. */
export async function startServer(ns: string, args: readonly string[]): Promise<Server> {
  // `ip netns exec` execs node in place, so the child's pid is the server's own.
  const child: ResultPromise = execa(
    "ip",
    ["netns", "exec", ns, process.execPath, FIXTURES, ...args],
    {
      reject: false,
      buffer: false,
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready")) resolve();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    void child.then((r) =>
      reject(new Error(`server ${args.join(" ")} in ${ns} exited ${r.exitCode}: ${err}`)),
    );
  });
  return {
    async stop() {
      child.kill("SIGKILL");
      await child;
    },
  };
}

export async function namespaces(): Promise<string[]> {
  const { stdout } = await execa("ip", ["netns", "list"]);
  return stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n !== "");
}

export interface Topology {
  readonly hostNs: string;
  readonly internetNs: string;
  teardown(): Promise<void>;
}

/** Remove the test world (idempotent): the namespaces take their links and routes with them. */
export async function teardownTopology(): Promise<void> {
  for (const ns of [HOST_NS, INTERNET_NS]) {
    if ((await namespaces()).includes(ns)) await execa("ip", ["netns", "del", ns]);
  }
}

/**
 * The namespace names are fixed, so suites sharing the world take turns (vitest runs files in
 * parallel): a lock file holding the owner's pid; a dead owner's lock is taken over.
 */
const LOCK = "/run/sbxt-topology.lock";

async function takeLock(): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    try {
      const fd = openSync(LOCK, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(LOCK, "utf8"));
      process.kill(owner, 0);
    } catch {
      if (owner !== 0) rmSync(LOCK, { force: true }); // owner gone
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${LOCK} held for 10 minutes`);
}

export async function buildTopology(): Promise<Topology> {
  await takeLock();
  await teardownTopology(); // a previous run killed mid-way
  const servers: Server[] = [];
  let certdir: string | undefined;
  const teardown = async (): Promise<void> => {
    for (const s of servers) await s.stop();
    await teardownTopology();
    if (certdir) rmSync(certdir, { recursive: true, force: true });
    rmSync(WEB_ROOT, { recursive: true, force: true });
    rmSync(LOCK, { force: true });
  };
  try {
    for (const ns of [HOST_NS, INTERNET_NS]) {
      await execa("ip", ["netns", "add", ns]);
      await mustIn(ns, "sysctl", [
        "-q",
        "-w",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
      ]);
      await execa("ip", ["-n", ns, "link", "set", "lo", "up"]);
    }
    // Born in sbxt-host with its peer in sbxt-internet: never in the root namespace.
    await execa("ip", [
      "-n",
      HOST_NS,
      "link",
      "add",
      "up0",
      "type",
      "veth",
      "peer",
      "name",
      "down0",
      "netns",
      INTERNET_NS,
    ]);
    await execa("ip", ["-n", HOST_NS, "addr", "add", `${HOST_LINK.host}/30`, "dev", "up0"]);
    await execa("ip", ["-n", HOST_NS, "link", "set", "up0", "up"]);
    await execa("ip", ["-n", HOST_NS, "route", "add", "default", "via", HOST_LINK.internet]);
    await mustIn(HOST_NS, "sysctl", ["-q", "-w", "net.ipv4.ip_forward=1"]);

    await execa("ip", [
      "-n",
      INTERNET_NS,
      "addr",
      "add",
      `${HOST_LINK.internet}/30`,
      "dev",
      "down0",
    ]);
    await execa("ip", ["-n", INTERNET_NS, "link", "set", "down0", "up"]);
    for (const addr of Object.values(INTERNET)) {
      await execa("ip", ["-n", INTERNET_NS, "addr", "add", `${addr}/32`, "dev", "lo"]);
    }
    for (const range of ["10.203.0.0/16", "10.204.0.0/16"]) {
      await execa("ip", ["-n", INTERNET_NS, "route", "add", range, "via", HOST_LINK.host]);
    }

    const cert = await makeCert();

    certdir = cert.dir;
    rmSync(WEB_ROOT, { recursive: true, force: true });
    mkdirSync(WEB_ROOT, { mode: 0o755 });
    servers.push(await startServer(INTERNET_NS, ["internet", cert.dir, WEB_ROOT]));
    return { hostNs: HOST_NS, internetNs: INTERNET_NS, teardown };
  } catch (error) {
    await teardown();
    throw error;
  }
}

/**
 * The test world for a runner started in sbxt-host with `nsenter`: the topology, plus the
 * resolver file `ip netns exec` would bind there (the fake 8.8.8.8). Returns what undoes both.
 */
export async function buildRunnerWorld(): Promise<() => Promise<void>> {
  const topology = await buildTopology();
  const resolv = `/etc/netns/${HOST_NS}`;
  mkdirSync(resolv, { recursive: true });
  writeFileSync(path.join(resolv, "resolv.conf"), `nameserver ${INTERNET.dns1}\n`);
  return async () => {
    await topology.teardown();
    rmSync(resolv, { recursive: true, force: true });
  };
}
