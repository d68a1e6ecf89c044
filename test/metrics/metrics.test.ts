// Prometheus metrics and the /metrics + /healthz server (issue 6, "Operating it").
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { register as globalRegister } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import {
  createMetrics,
  metricsRecorder,
  parseListen,
  startMetricsServer,
} from "../../runner/metrics/index.js";
import type { HealthStatus, MetricsServer } from "../../runner/metrics/index.js";
import { SandboxedError } from "../../runner/errors/index.js";

const NAMES = [
  "sandboxed_jobs_total",
  "sandboxed_queue_to_start_seconds",
  "sandboxed_sandboxes_live",
  "sandboxed_egress_denials_total",
  "sandboxed_limit_breaches_total",
  "sandboxed_github_api_errors_total",
];

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** GET (or another method) on `host:port` or `unix:/path`, as the server reports its address. */
function call(address: string, urlPath: string, method = "GET"): Promise<Reply> {
  const target = address.startsWith("unix:")
    ? { socketPath: address.slice(5) }
    : { host: address.slice(0, address.lastIndexOf(":")), port: Number(address.split(":").pop()) };
  return new Promise((resolve, reject) => {
    const req = request({ ...target, path: urlPath, method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

const open: MetricsServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function serve(health: () => HealthStatus | Promise<HealthStatus>, listen = "127.0.0.1:0") {
  const metrics = createMetrics();
  const server = await startMetricsServer({ listen, metrics, health });
  open.push(server);
  return { metrics, server };
}

describe("createMetrics", () => {
  it("registers the six service metrics and process metrics on its own registry", async () => {
    const m = createMetrics();
    const text = await m.registry.metrics();
    for (const name of NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain("process_cpu_user_seconds_total");
    expect(text).toContain("nodejs_eventloop_lag_seconds");
    // Nothing on prom-client's global registry.
    expect(await globalRegister.metrics()).not.toContain("sandboxed_");
  });

  it("two in one process do not collide", () => {
    expect(() => [createMetrics(), createMetrics()]).not.toThrow();
  });

  it("counts known outcomes and limit kinds from zero", async () => {
    const text = await createMetrics({ processMetrics: false }).registry.metrics();
    expect(text).toContain('sandboxed_jobs_total{outcome="infrastructure"} 0');
    expect(text).toContain('sandboxed_limit_breaches_total{kind="memory"} 0');
  });

  it("queue-to-start buckets reach 30 minutes", async () => {
    const text = await createMetrics({ processMetrics: false }).registry.metrics();
    expect(text).toContain('sandboxed_queue_to_start_seconds_bucket{le="1800"} 0');
    expect(text).toContain('sandboxed_queue_to_start_seconds_bucket{le="+Inf"} 0');
  });

  it("metricsRecorder: the scheduler's calls land on the metrics", async () => {
    const m = createMetrics({ processMetrics: false });
    const r = metricsRecorder(m);
    r.jobFinished("success");
    r.jobFinished("success");
    r.jobFinished("weird");
    r.queueToStart(12);
    r.queueToStart(-3); // a clock step: dropped, not counted as zero
    r.sandboxesLive(3);
    r.egressDenied(2);
    r.egressDenied(0);
    r.limitBreached("pids");
    r.githubApiError(502);
    r.githubApiError("network");
    const text = await m.registry.metrics();
    for (const line of [
      'sandboxed_jobs_total{outcome="success"} 2',
      'sandboxed_jobs_total{outcome="weird"} 1',
      "sandboxed_queue_to_start_seconds_count 1",
      'sandboxed_queue_to_start_seconds_bucket{le="10"} 0',
      'sandboxed_queue_to_start_seconds_bucket{le="20"} 1',
      "sandboxed_sandboxes_live 3",
      "sandboxed_egress_denials_total 2",
      'sandboxed_limit_breaches_total{kind="pids"} 1',
      'sandboxed_github_api_errors_total{status="502"} 1',
      'sandboxed_github_api_errors_total{status="network"} 1',
    ]) {
      expect(text).toContain(line);
    }
  });
});

describe("startMetricsServer", () => {
  it("GET /metrics answers the Prometheus text format with every name", async () => {
    const { metrics, server } = await serve(() => ({ ok: true }));
    expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(server.address).not.toBe("127.0.0.1:0");
    metrics.jobs.inc({ outcome: "success" });
    const r = await call(server.address, "/metrics");
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of NAMES) expect(r.body).toContain(name);
    expect(r.body).toContain('sandboxed_jobs_total{outcome="success"} 1');
    expect(r.body).toContain("process_resident_memory_bytes");
  });

  it.each([
    {
      name: "healthy: 200 with detail",
      health: (): HealthStatus => ({ ok: true, detail: { queued: 2, draining: false } }),
      status: 200,
      body: { ok: true, queued: 2, draining: false },
    },
    {
      name: "draining: 503",
      health: (): HealthStatus => ({ ok: false, detail: { draining: true } }),
      status: 503,
      body: { ok: false, draining: true },
    },
    {
      name: "detail cannot override ok",
      health: (): HealthStatus => ({ ok: false, detail: { ok: true } }),
      status: 503,
      body: { ok: false },
    },
    {
      name: "async health",
      health: async (): Promise<HealthStatus> => ({ ok: true }),
      status: 200,
      body: { ok: true },
    },
    {
      name: "a throwing health check: 503 with its message",
      health: (): HealthStatus => {
        throw new Error("GitHub unreachable");
      },
      status: 503,
      body: { ok: false, error: "GitHub unreachable" },
    },
  ])("GET /healthz, $name", async ({ health, status, body }) => {
    const { server } = await serve(health);
    const r = await call(server.address, "/healthz");
    expect(r.status).toBe(status);
    expect(r.type).toBe("application/json");
    expect(JSON.parse(r.body)).toEqual(body);
  });

  it.each([
    { name: "root", path: "/", method: "GET", status: 404 },
    { name: "unknown path", path: "/webhook", method: "GET", status: 404 },
    { name: "path prefix", path: "/metrics/x", method: "GET", status: 404 },
    { name: "query string is ignored", path: "/healthz?verbose=1", method: "GET", status: 200 },
    { name: "HEAD", path: "/metrics", method: "HEAD", status: 200 },
    { name: "POST", path: "/metrics", method: "POST", status: 405 },
    { name: "DELETE", path: "/healthz", method: "DELETE", status: 405 },
  ])("$name: $method $path → $status", async ({ path: p, method, status }) => {
    const { server } = await serve(() => ({ ok: true }));
    expect((await call(server.address, p, method)).status).toBe(status);
  });

  it("takes the loaded config's metrics.listen shape ({host, port})", async () => {
    const server = await startMetricsServer({
      listen: { host: "127.0.0.1", port: 0 },
      metrics: createMetrics({ processMetrics: false }),
      health: () => ({ ok: true }),
    });
    open.push(server);
    expect(server.address).toMatch(/^127\.0\.0\.1:[1-9]\d*$/);
    expect((await call(server.address, "/healthz")).status).toBe(200);
  });

  it("listens on a unix socket, creating its folder, and removes the file on close", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-metrics-"));
    const sock = path.join(dir, "run", "metrics.sock");
    const { server } = await serve(() => ({ ok: true }), `unix:${sock}`);
    expect(server.address).toBe(`unix:${sock}`);
    expect((await call(server.address, "/healthz")).status).toBe(200);
    expect((await call(server.address, "/metrics")).body).toContain("sandboxed_jobs_total");
    await open.pop()!.close();
    expect(existsSync(sock)).toBe(false);
  });

  it("replaces the socket a kill -9'd service left behind", async () => {
    const sock = path.join(mkdtempSync(path.join(tmpdir(), "sbx-metrics-")), "m.sock");
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(sock)}, () => console.log("up"))`,
    ]);
    await new Promise((r) => child.stdout.once("data", r));
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(lstatSync(sock).isSocket()).toBe(true);
    const { server } = await serve(() => ({ ok: true }), `unix:${sock}`);
    expect((await call(server.address, "/healthz")).status).toBe(200);
  });

  it("never removes a regular file in the socket's place", async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sbx-metrics-")), "m.sock");
    writeFileSync(file, "keep me");
    await expect(serve(() => ({ ok: true }), `unix:${file}`)).rejects.toMatchObject({
      code: "SBX_METRICS_LISTEN",
      hint: `${file} is a file, not a socket: remove it or change metrics.listen`,
    });
    expect(readFileSync(file, "utf8")).toBe("keep me");
  });

  it("refuses a port another process holds: SBX_METRICS_LISTEN with the fix", async () => {
    const { server } = await serve(() => ({ ok: true }));
    const port = server.address.split(":")[1]!;
    try {
      await startMetricsServer({
        listen: server.address,
        metrics: createMetrics({ processMetrics: false }),
        health: () => ({ ok: true }),
      });
      expect.unreachable();
    } catch (error) {
      const e = error as SandboxedError;
      expect(e.code).toBe("SBX_METRICS_LISTEN");
      expect(e.message).toMatch(
        new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: listen EADDRINUSE`),
      );
      expect(e.hint).toBe(
        `another process holds it (ss -ltnp 'sport = :${port}'); stop it or change metrics.listen`,
      );
    }
  });

  it("refuses a live unix socket of another service", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sbx-metrics-"));
    const listen = `unix:${path.join(dir, "m.sock")}`;
    await serve(() => ({ ok: true }), listen);
    await expect(serve(() => ({ ok: true }), listen)).rejects.toMatchObject({
      code: "SBX_METRICS_LISTEN",
      hint: "another process serves on this socket; stop it or change metrics.listen",
    });
  });
});

describe("parseListen", () => {
  it.each([
    { name: "IPv4", spec: "127.0.0.1:9464", want: { kind: "tcp", host: "127.0.0.1", port: 9464 } },
    { name: "any", spec: "0.0.0.0:80", want: { kind: "tcp", host: "0.0.0.0", port: 80 } },
    { name: "IPv6", spec: "[::1]:9464", want: { kind: "tcp", host: "::1", port: 9464 } },
    { name: "name", spec: "localhost:9464", want: { kind: "tcp", host: "localhost", port: 9464 } },
    { name: "port 0", spec: "127.0.0.1:0", want: { kind: "tcp", host: "127.0.0.1", port: 0 } },
    {
      name: "unix",
      spec: "unix:/run/sandboxed/metrics.sock",
      want: { kind: "unix", path: "/run/sandboxed/metrics.sock" },
    },
  ])("accepts $name", ({ spec, want }) => {
    expect(parseListen(spec)).toEqual(want);
  });

  it.each([
    { name: "no port", spec: "127.0.0.1", why: "is neither host:port nor unix:/path" },
    { name: "port only", spec: ":9464", why: "is neither host:port nor unix:/path" },
    { name: "bare IPv6", spec: "::1:9464", why: "is neither host:port nor unix:/path" },
    { name: "port too big", spec: "127.0.0.1:65536", why: "has port 65536, above 65535" },
    { name: "relative socket", spec: "unix:run/m.sock", why: "needs an absolute socket path" },
    { name: "a URL", spec: "http://127.0.0.1:9464", why: "is neither host:port nor unix:/path" },
  ])("refuses $name: SBX_METRICS_ADDRESS", ({ spec, why }) => {
    try {
      parseListen(spec);
      expect.unreachable();
    } catch (error) {
      const e = error as SandboxedError;
      expect(e).toBeInstanceOf(SandboxedError);
      expect(e.code).toBe("SBX_METRICS_ADDRESS");
      expect(e.message).toBe(`listen address ${JSON.stringify(spec)} ${why}`);
      expect(e.hint).toBe(
        "write host:port (127.0.0.1:9464, [::1]:9464) or unix:/run/sandboxed/metrics.sock",
      );
    }
  });
});
