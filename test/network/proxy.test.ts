/**
 * The egress proxy end to end on 127.0.0.1 (issue 4): real clients (curl, node), real upstream
 * HTTP and HTTPS servers, an injected resolver. 127.x is loopback class, so the policies that
 * should reach the upstreams carry a `127.0.0.0/8` cidr rule; one test shows the denial without it.
 */
import { rmSync } from "node:fs";
import net from "node:net";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createEgressProxy } from "../../runner/network/index.js";
import type { EgressDecisionLog, EgressProxy } from "../../runner/network/index.js";
import type { NetworkPolicy } from "../../runner/policy/index.js";
import {
  captureClientHello,
  cidrRule,
  hostRule,
  JOB,
  makeCert,
  network,
  NOW,
  openTunnel,
  rawExchange,
  startUpstreams,
  tlsGet,
} from "./fixtures.js";
import type { Cert, Upstreams } from "./fixtures.js";

const NAMES: Record<string, string[]> = {
  "allowed.test": ["127.0.0.1"],
  "other.test": ["127.0.0.1"],
  "rebind.test": ["169.254.169.254"],
  "mapped.test": ["::ffff:169.254.169.254"],
  "multi.test": ["169.254.169.254", "127.0.0.1"],
  "denied.test": ["127.0.0.1"],
};
const resolver = async (name: string) => NAMES[name] ?? [];

let cert: Cert;
let up: Upstreams;
let proxy: EgressProxy | undefined;
let logs: EgressDecisionLog[];

beforeAll(async () => {
  cert = await makeCert();
  up = await startUpstreams(cert);
});
afterAll(async () => {
  await up.close();
  rmSync(cert.dir, { recursive: true, force: true });
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

type PolicyName = "withCidr" | "noCidr" | "audit";
function policy(name: PolicyName): NetworkPolicy {
  const ports = [up.httpPort, up.httpsPort];
  const hosts = [
    hostRule("allowed.test", ports),
    hostRule("other.test", ports),
    hostRule("rebind.test", ports),
    hostRule("mapped.test", ports),
    hostRule("multi.test", ports),
    hostRule("nxdomain.test", ports),
  ];
  switch (name) {
    case "withCidr":
      return network("allowlist", [...hosts, cidrRule("127.0.0.0/8", ports)]);
    case "noCidr":
      return network("allowlist", hosts);
    case "audit":
      return network("audit", [hostRule("allowed.test", ports), cidrRule("127.0.0.0/8", ports)]);
  }
}

async function start(name: PolicyName, extra: { headerTimeoutMs?: number } = {}) {
  logs = [];
  proxy = await createEgressProxy({
    listen: { host: "127.0.0.1", port: 0 },
    network: policy(name),
    jobId: JOB,
    resolver,
    onDecision: (l) => logs.push(l),
    now: () => NOW,
    connectTimeoutMs: 2000,
    ...extra,
  });
  return proxy.port;
}

/** Exactly one decision line, once the request has ended. */
async function oneLog(): Promise<EgressDecisionLog> {
  await vi.waitFor(() => expect(logs).toHaveLength(1));
  await new Promise((r) => setTimeout(r, 50));
  expect(logs).toHaveLength(1);
  return logs[0]!;
}

const curl = (args: string[]) =>
  execa("curl", ["-sS", "--max-time", "10", ...args], {
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH },
  });

describe("allowed traffic", () => {
  it("plain HTTP via curl: forwarded with X-Sandboxed-Job, forged one stripped, logged", async () => {
    const port = await start("withCidr");
    const r = await curl([
      "-x",
      `http://127.0.0.1:${port}`,
      "-H",
      "X-Sandboxed-Job: forged",
      "-H",
      "Proxy-Authorization: Basic c2VjcmV0",
      `http://allowed.test:${up.httpPort}/path?q=1`,
    ]);
    expect(r.stderr).toBe("");
    const seen = JSON.parse(r.stdout) as { url: string; rawHeaders: string[] };
    expect(seen.url).toBe("/path?q=1");
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
    expect(names.filter((n) => n === "x-sandboxed-job")).toHaveLength(1);
    expect(seen.rawHeaders[seen.rawHeaders.indexOf("X-Sandboxed-Job") + 1]).toBe(JOB);
    expect(names).not.toContain("proxy-authorization");
    expect(names).not.toContain("proxy-connection");
    const log = await oneLog();
    expect(log).toMatchObject({
      time: NOW.toISOString(),
      job: JOB,
      kind: "http",
      host: "allowed.test",
      port: up.httpPort,
      address: "127.0.0.1",
      verdict: "allow",
      reason: "host-rule",
      rule: "policy.yml:1:5".replace(/:\d+:/, (m) => m), // file:line:col of the rule
    });
    expect(log.rule).toMatch(/^policy\.yml:\d+:5$/);
    expect(log.bytesUp).toBeGreaterThan(0);
    expect(log.bytesDown).toBeGreaterThan(r.stdout.length);
  });

  it.each([
    { name: "chunked body", headers: ["-H", "Transfer-Encoding: chunked"] },
    { name: "content-length body", headers: [] },
  ])("plain HTTP POST streams a $name", async ({ headers }) => {
    const port = await start("withCidr");
    const payload = "x".repeat(100_000);
    const r = await execa(
      "curl",
      [
        "-sS",
        "-x",
        `http://127.0.0.1:${port}`,
        ...headers,
        "--data-binary",
        "@-",
        `http://allowed.test:${up.httpPort}/upload`,
      ],
      { input: payload, extendEnv: false, env: { PATH: process.env.PATH } },
    );
    const seen = JSON.parse(r.stdout) as { method: string; body: string };
    expect(seen).toMatchObject({ method: "POST", body: payload });
    expect((await oneLog()).bytesUp).toBeGreaterThan(payload.length);
  });

  it("HTTPS via curl through CONNECT", async () => {
    const port = await start("withCidr");
    const r = await curl([
      "-x",
      `http://127.0.0.1:${port}`,
      "--cacert",
      cert.certFile,
      `https://allowed.test:${up.httpsPort}/`,
    ]);
    expect(r.stdout).toBe("hello tls");
    const log = await oneLog();
    expect(log).toMatchObject({
      kind: "connect",
      host: "allowed.test",
      verdict: "allow",
      reason: "host-rule",
      address: "127.0.0.1",
    });
    expect(log.bytesUp).toBeGreaterThan(100);
    expect(log.bytesDown).toBeGreaterThan(100);
  });

  it("HTTPS with upper-case, trailing-dot CONNECT host and matching SNI", async () => {
    const port = await start("withCidr");
    const t = await openTunnel(port, `ALLOWED.test.:${up.httpsPort}`);
    expect(t.status).toBe(200);
    expect((await tlsGet(t.socket, "allowed.test", cert.cert)).body).toContain("hello tls");
    expect(await oneLog()).toMatchObject({ host: "allowed.test", verdict: "allow" });
  });

  it("a ClientHello split into 1-byte and larger TCP segments", async () => {
    const port = await start("withCidr");
    const hello = await captureClientHello("allowed.test");
    const before = up.tlsConnections;
    const t = await openTunnel(port, `allowed.test:${up.httpsPort}`);
    for (const piece of [hello.subarray(0, 1), hello.subarray(1, 7), hello.subarray(7)]) {
      t.socket.write(piece);
      await new Promise((r) => setTimeout(r, 30));
    }
    await vi.waitFor(() => expect(up.tlsConnections).toBe(before + 1));
    t.socket.destroy();
    expect(await oneLog()).toMatchObject({ verdict: "allow", reason: "host-rule" });
  });

  it("CONNECT to an IP literal a cidr rule allows needs no SNI", async () => {
    const port = await start("withCidr");
    const t = await openTunnel(port, `127.0.0.1:${up.httpsPort}`);
    expect(t.status).toBe(200);
    expect((await tlsGet(t.socket, "", cert.cert)).body).toContain("hello tls");
    expect(await oneLog()).toMatchObject({
      verdict: "allow",
      reason: "cidr-rule",
      host: "127.0.0.1",
    });
  });

  it("checks every resolved address and dials the first allowed one", async () => {
    const port = await start("withCidr");
    const r = await curl(["-x", `http://127.0.0.1:${port}`, `http://multi.test:${up.httpPort}/`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: "GET" });
    expect(await oneLog()).toMatchObject({ verdict: "allow", address: "127.0.0.1" });
  });
});

describe("refused requests (raw sockets)", () => {
  const get = (target: string, host = target) =>
    `GET http://${target}/ HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
  it.each<{
    name: string;
    policy: PolicyName;
    request: (p: { http: number; https: number }) => string;
    status: number;
    reason: string;
    host?: string;
  }>([
    // --- policy: names, ports, addresses ---
    {
      name: "denied host",
      policy: "withCidr",
      request: (p) => get(`denied.example:${p.http}`),
      status: 403,
      reason: "no-matching-rule",
      host: "denied.example",
    },
    {
      name: "allowed name, forbidden port (HTTP)",
      policy: "withCidr",
      request: () => get("allowed.test:8081"),
      status: 403,
      reason: "port-not-allowed",
    },
    {
      name: "CONNECT to allowed name on port 22",
      policy: "withCidr",
      request: () => "CONNECT allowed.test:22 HTTP/1.1\r\nHost: allowed.test:22\r\n\r\n",
      status: 403,
      reason: "port-not-allowed",
    },
    {
      name: "IP literal without a cidr rule (HTTP)",
      policy: "noCidr",
      request: (p) => get(`127.0.0.1:${p.http}`),
      status: 403,
      reason: "ip-literal",
    },
    {
      name: "IP literal without a cidr rule (CONNECT)",
      policy: "noCidr",
      request: (p) => `CONNECT 127.0.0.1:${p.https} HTTP/1.1\r\n\r\n`,
      status: 403,
      reason: "ip-literal",
    },
    {
      name: "decimal IP literal",
      policy: "noCidr",
      request: (p) => get(`2130706433:${p.http}`),
      status: 403,
      reason: "ip-literal",
    },
    {
      name: "metadata IP literal",
      policy: "withCidr",
      request: () => "CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n",
      status: 403,
      reason: "ip-literal",
    },
    {
      name: "allowed name resolving to 127.0.0.1 without a cidr rule",
      policy: "noCidr",
      request: (p) => get(`allowed.test:${p.http}`),
      status: 403,
      reason: "forbidden-address",
    },
    {
      name: "allowed name rebinding to 169.254.169.254",
      policy: "withCidr",
      request: (p) => get(`rebind.test:${p.http}`),
      status: 403,
      reason: "forbidden-address",
    },
    {
      name: "allowed name rebinding to ::ffff:169.254.169.254",
      policy: "withCidr",
      request: (p) => get(`mapped.test:${p.http}`),
      status: 403,
      reason: "forbidden-address",
    },
    {
      name: "allowed name that does not resolve",
      policy: "withCidr",
      request: (p) => get(`nxdomain.test:${p.http}`),
      status: 502,
      reason: "resolve-failed",
    },
    // --- request shape ---
    {
      name: "Host header disagrees with URL",
      policy: "withCidr",
      request: (p) => get(`allowed.test:${p.http}`, `other.test:${p.http}`),
      status: 403,
      reason: "host-mismatch",
    },
    {
      name: "Host header on another port",
      policy: "withCidr",
      request: (p) => get(`allowed.test:${p.http}`, `allowed.test:${p.https}`),
      status: 403,
      reason: "host-mismatch",
    },
    {
      name: "two Host headers",
      policy: "withCidr",
      request: (p) =>
        `GET http://allowed.test:${p.http}/ HTTP/1.1\r\nHost: allowed.test:${p.http}\r\nHost: evil.example\r\n\r\n`,
      status: 400,
      reason: "bad-request",
    },
    {
      name: "origin-form request to the proxy",
      policy: "withCidr",
      request: () => "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
      status: 400,
      reason: "bad-request",
    },
    {
      name: "https:// absolute form",
      policy: "withCidr",
      request: (p) => get(`allowed.test:${p.https}`).replace("http://", "https://"),
      status: 400,
      reason: "bad-request",
    },
    {
      name: "userinfo in URL",
      policy: "withCidr",
      request: (p) => get(`u:p@allowed.test:${p.http}`),
      status: 400,
      reason: "bad-request",
    },
    {
      name: "TRACE",
      policy: "withCidr",
      request: (p) => get(`allowed.test:${p.http}`).replace("GET", "TRACE"),
      status: 405,
      reason: "method-not-allowed",
    },
    {
      name: "CONNECT without a port",
      policy: "withCidr",
      request: () => "CONNECT allowed.test HTTP/1.1\r\n\r\n",
      status: 400,
      reason: "bad-request",
    },
    {
      name: "Upgrade to websocket",
      policy: "withCidr",
      request: (p) =>
        `GET http://allowed.test:${p.http}/ HTTP/1.1\r\nHost: allowed.test:${p.http}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
      status: 405,
      reason: "upgrade-refused",
    },
    {
      name: "garbage bytes",
      policy: "withCidr",
      request: () => "\x16\x03\x01\x00\xff garbage\r\n\r\n",
      status: 400,
      reason: "bad-request",
    },
    {
      name: "headers over 64 KiB",
      policy: "withCidr",
      request: (p) =>
        `GET http://allowed.test:${p.http}/ HTTP/1.1\r\nHost: allowed.test:${p.http}\r\nX-Big: ${"a".repeat(70_000)}\r\n\r\n`,
      status: 431,
      reason: "headers-too-large",
    },
  ])("$name", async ({ policy: name, request, status, reason, host }) => {
    const port = await start(name);
    const before = up.tlsConnections;
    const reply = await rawExchange(port, request({ http: up.httpPort, https: up.httpsPort }));
    expect(reply.split("\r\n")[0]).toBe(
      `HTTP/1.1 ${status} ${reply.split("\r\n")[0]!.split(" ").slice(2).join(" ")}`,
    );
    expect(Number(reply.split(" ")[1])).toBe(status);
    if (status === 403) expect(reply).toContain(`denied (${reason})`);
    const log = await oneLog();
    expect(log).toMatchObject({ job: JOB, verdict: "deny", reason, time: NOW.toISOString() });
    if (host) expect(log.host).toBe(host);
    expect(log.bytesUp).toBeUndefined();
    expect(up.tlsConnections).toBe(before);
  });

  it("headers just under 64 KiB are accepted", async () => {
    const port = await start("withCidr");
    const reply = await rawExchange(
      port,
      `GET http://allowed.test:${up.httpPort}/ HTTP/1.1\r\nHost: allowed.test:${up.httpPort}\r\nX-Big: ${"a".repeat(60_000)}\r\n\r\n`,
    );
    expect(reply.split(" ")[1]).toBe("200");
    expect(await oneLog()).toMatchObject({ verdict: "allow" });
  });

  it("slowloris: headers that never finish time out with 408", async () => {
    const port = await start("withCidr", { headerTimeoutMs: 200 });
    const reply = await rawExchange(port, "GET http://allowed.test/ HTTP/1.1\r\nHost: allo");
    expect(reply.split(" ")[1]).toBe("408");
    expect(await oneLog()).toMatchObject({ verdict: "deny", reason: "header-timeout" });
  });
});

describe("CONNECT tunnels that fail the ClientHello check", () => {
  it.each<{ name: string; send: (t: net.Socket) => Promise<unknown>; reason: string }>([
    {
      name: "SNI names another host (fronting)",
      send: (s) => tlsGet(s, "other.test", cert.cert),
      reason: "sni-mismatch",
    },
    { name: "no SNI", send: (s) => tlsGet(s, "", cert.cert), reason: "no-sni" },
    {
      name: "SNI is a suffix attack",
      send: (s) => tlsGet(s, "allowed.test.evil.example", cert.cert),
      reason: "sni-mismatch",
    },
    {
      name: "plain HTTP bytes inside the tunnel",
      send: (s) =>
        new Promise((r) => {
          s.write("GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n");
          s.on("close", r);
        }),
      reason: "not-tls",
    },
    {
      name: "ssh banner inside the tunnel",
      send: (s) =>
        new Promise((r) => {
          s.write("SSH-2.0-OpenSSH_9.6\r\n");
          s.on("close", r);
        }),
      reason: "not-tls",
    },
    {
      name: "client closes before any bytes",
      send: (s) =>
        new Promise((r) => {
          s.on("close", r);
          s.end();
        }),
      reason: "not-tls",
    },
    {
      name: "a TLS record that is not a ClientHello",
      send: (s) =>
        new Promise((r) => {
          s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x02, 0, 0, 1, 0]));
          s.on("close", r);
        }),
      reason: "bad-hello",
    },
  ])("$name", async ({ send, reason }) => {
    const port = await start("withCidr");
    const before = up.tlsConnections;
    const t = await openTunnel(port, `allowed.test:${up.httpsPort}`);
    expect(t.status).toBe(200);
    t.socket.on("error", () => undefined);
    await send(t.socket);
    const log = await oneLog();
    expect(log).toMatchObject({ kind: "connect", host: "allowed.test", verdict: "deny", reason });
    expect(log.address).toBeUndefined();
    expect(up.tlsConnections).toBe(before);
  });
});

describe("audit mode", () => {
  it("allows a host outside the policy and records wouldDeny", async () => {
    const port = await start("audit");
    const r = await curl(["-x", `http://127.0.0.1:${port}`, `http://denied.test:${up.httpPort}/`]);
    expect(JSON.parse(r.stdout)).toMatchObject({ method: "GET" });
    expect(await oneLog()).toMatchObject({
      verdict: "allow",
      reason: "no-matching-rule",
      wouldDeny: true,
      host: "denied.test",
    });
  });

  it("allows an SNI mismatch and records it", async () => {
    const port = await start("audit");
    const t = await openTunnel(port, `allowed.test:${up.httpsPort}`);
    expect((await tlsGet(t.socket, "other.test", cert.cert)).body).toContain("hello tls");
    expect(await oneLog()).toMatchObject({
      verdict: "allow",
      reason: "sni-mismatch",
      wouldDeny: true,
    });
  });

  it("an allowed request would not be denied", async () => {
    const port = await start("audit");
    await curl(["-x", `http://127.0.0.1:${port}`, `http://allowed.test:${up.httpPort}/`]);
    expect(await oneLog()).toMatchObject({
      verdict: "allow",
      reason: "host-rule",
      wouldDeny: false,
    });
  });
});

describe("robustness", () => {
  it("keeps serving after resets, half-closes and garbage; one log per decision", async () => {
    const port = await start("withCidr");
    for (let i = 0; i < 5; i++) {
      const s = net.connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      s.write(i % 2 ? "CONNECT allowed.test:" : "\x00\xff\x00garbage");
      s.end();
      const r = net.connect(port, "127.0.0.1", () => r.resetAndDestroy());
      r.on("error", () => undefined);
    }
    const t = await openTunnel(port, `allowed.test:${up.httpsPort}`);
    t.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    logs.length = 0;
    const res = await curl([
      "-x",
      `http://127.0.0.1:${port}`,
      `http://allowed.test:${up.httpPort}/`,
    ]);
    expect(JSON.parse(res.stdout)).toMatchObject({ method: "GET" });
    expect(await oneLog()).toMatchObject({ verdict: "allow" });
  });

  it("never dials itself, even when a cidr rule allows loopback on its port", async () => {
    const free = net.createServer();
    const selfPort = await new Promise<number>((r) =>
      free.listen(0, "127.0.0.1", () => r((free.address() as net.AddressInfo).port)),
    );
    await new Promise((r) => free.close(r));
    logs = [];
    proxy = await createEgressProxy({
      listen: { host: "127.0.0.1", port: selfPort },
      network: network("audit", [
        hostRule("allowed.test", [selfPort]),
        cidrRule("127.0.0.0/8", [selfPort]),
      ]),
      jobId: JOB,
      resolver,
      onDecision: (l) => logs.push(l),
      now: () => NOW,
    });
    const t = await openTunnel(selfPort, `127.0.0.1:${selfPort}`);
    expect(t.status).toBe(200);
    await new Promise((r) => t.socket.on("close", r));
    expect(await oneLog()).toMatchObject({ verdict: "deny", reason: "self-connection" });
  });
});

describe("errors", () => {
  it("SBX_NETWORK_LISTEN when the port is taken, with a hint", async () => {
    const port = await start("withCidr");
    await expect(
      createEgressProxy({
        listen: { host: "127.0.0.1", port },
        network: policy("withCidr"),
        jobId: JOB,
        resolver,
        onDecision: () => undefined,
      }),
    ).rejects.toMatchObject({
      code: "SBX_NETWORK_LISTEN",
      message: `egress proxy cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      hint: `free the port (ss -ltnup 'sport = :${port}') or listen on port 0`,
    });
  });
});
