/**
 * The proxy's status page (issue 6 §4): `GET http://sandboxed.internal/egress` through the proxy
 * is answered by the proxy itself with this sandbox's own egress summary. Pure parts by table,
 * then the page end to end with curl on 127.0.0.1 (nothing is forwarded, nothing is logged).
 */
import { execa } from "execa";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createEgressProxy,
  createEgressTally,
  renderEgressSummary,
} from "../../runner/network/index.js";
import type { EgressDecisionLog, EgressProxy, EgressTally } from "../../runner/network/index.js";
import { MAX_LISTED, MAX_TALLY_KEYS, statusRoute } from "../../runner/network/proxy-status.js";
import { hostRule, JOB, network, NOW, rawExchange } from "./fixtures.js";

const log = (over: Partial<EgressDecisionLog>): EgressDecisionLog => ({
  time: NOW.toISOString(),
  job: JOB,
  kind: "connect",
  host: "evil.test",
  port: 443,
  verdict: "deny",
  reason: "no-matching-rule",
  ...over,
});

describe("statusRoute", () => {
  const t = (host: string, port = 80, path = "/egress") => ({ host, port, path });
  it.each([
    // ── the page ──
    { name: "GET /egress", method: "GET", target: t("sandboxed.internal"), expect: "summary" },
    { name: "case-insensitive", method: "GET", target: t("Sandboxed.INTERNAL"), expect: "summary" },
    { name: "trailing dot", method: "GET", target: t("sandboxed.internal."), expect: "summary" },
    // ── refused by the page itself ──
    { name: "POST", method: "POST", target: t("sandboxed.internal"), expect: "method-not-allowed" },
    { name: "HEAD", method: "HEAD", target: t("sandboxed.internal"), expect: "method-not-allowed" },
    {
      name: "root path",
      method: "GET",
      target: t("sandboxed.internal", 80, "/"),
      expect: "not-found",
    },
    {
      name: "query string",
      method: "GET",
      target: t("sandboxed.internal", 80, "/egress?all=1"),
      expect: "not-found",
    },
    {
      name: "POST elsewhere",
      method: "POST",
      target: t("sandboxed.internal", 80, "/x"),
      expect: "not-found",
    },
    // ── not the page: the policy decides as for any host ──
    {
      name: "other port",
      method: "GET",
      target: t("sandboxed.internal", 8080),
      expect: "not-status",
    },
    { name: "sub-domain", method: "GET", target: t("a.sandboxed.internal"), expect: "not-status" },
    {
      name: "look-alike",
      method: "GET",
      target: t("sandboxed.internal.evil.test"),
      expect: "not-status",
    },
    { name: "other host", method: "GET", target: t("allowed.test"), expect: "not-status" },
  ])("$name", ({ method, target, expect: kind }) => {
    expect(statusRoute(method, target).kind).toBe(kind);
  });
});

describe("egress tally and summary", () => {
  it("counts allowed, groups denials by destination and reason, most frequent first", () => {
    const tally = createEgressTally();
    tally.add(log({ verdict: "allow", reason: "host-rule", host: "allowed.test" }));
    tally.add(log({ verdict: "allow", reason: "host-rule", host: "allowed.test" }));
    tally.add(log({ kind: "http", host: "10.1.2.3", port: 80, reason: "ip-literal" }));
    for (let i = 0; i < 3; i++) tally.add(log({}));
    tally.add(log({ kind: "dns", host: "exfil.test", port: 0, qtype: "TXT", reason: "qtype" }));
    tally.add(log({ host: "::1", port: 443, reason: "ip-literal" }));
    expect(renderEgressSummary(tally.snapshot(), "sbx-1")).toBe(
      [
        "sandboxed: egress of sandbox sbx-1 (this sandbox's decisions only)",
        "allowed: 2 decisions",
        "denied: 6 decisions",
        "      3x denied connect evil.test:443 (no-matching-rule)",
        "      1x denied connect [::1]:443 (ip-literal)",
        "      1x denied http 10.1.2.3:80 (ip-literal)",
        "      1x denied dns exfil.test (qtype)",
        "",
      ].join("\n"),
    );
  });

  it("audit mode: would-deny decisions count as allowed and are listed apart", () => {
    const tally = createEgressTally();
    tally.add(log({ verdict: "allow", reason: "no-matching-rule", wouldDeny: true }));
    const text = renderEgressSummary(tally.snapshot(), "sbx-1");
    expect(text).toContain("allowed: 1 decision (1 would be denied when enforced)");
    expect(text).toContain("denied: 0 decisions");
    expect(text).toContain("1x would deny connect evil.test:443 (no-matching-rule)");
  });

  it("prints job-chosen names as printable ASCII only", () => {
    const tally = createEgressTally();
    tally.add(log({ kind: "dns", host: "a\nb\u001b[31m", port: 0 }));
    const text = renderEgressSummary(tally.snapshot(), "sbx-1");
    expect(text).toContain("denied dns a?b?[31m (no-matching-rule)");
    expect(text.split("\n")).toHaveLength(5);
  });

  it("bounds what a job can make it keep and print", () => {
    const tally = createEgressTally();
    for (let i = 0; i < MAX_TALLY_KEYS + 10; i++) tally.add(log({ host: `h${i}.test` }));
    const snap = tally.snapshot();
    expect(snap.rows).toHaveLength(MAX_TALLY_KEYS);
    expect(snap.otherDenied).toBe(10);
    const lines = renderEgressSummary(snap, "sbx-1").trimEnd().split("\n");
    expect(lines).toHaveLength(3 + MAX_LISTED + 1);
    expect(lines.at(-1)).toBe(
      `  ${String(MAX_TALLY_KEYS + 10 - MAX_LISTED).padStart(5)}x more, to other destinations (see the job's log)`,
    );
  });
});

describe("the status page through the proxy", () => {
  let proxy: EgressProxy | undefined;
  let logs: EgressDecisionLog[];
  const resolved: string[] = [];
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  async function start(tally?: EgressTally): Promise<number> {
    logs = [];
    proxy = await createEgressProxy({
      listen: { host: "127.0.0.1", port: 0 },
      network: network("allowlist", [hostRule("allowed.test", [443])]),
      jobId: "sbx-status",
      resolver: async (name) => {
        resolved.push(name);
        return [];
      },
      onDecision: (l) => logs.push(l),
      now: () => NOW,
      ...(tally ? { tally } : {}),
    });
    return proxy.port;
  }

  const curl = (port: number, args: string[]) =>
    execa(
      "curl",
      ["-s", "--max-time", "10", "-x", `http://127.0.0.1:${port}`, "-w", "\n%{http_code}", ...args],
      { reject: false, extendEnv: false, env: { PATH: process.env.PATH } },
    );

  it("answers GET with this proxy's own denials; never resolves, forwards or logs the page", async () => {
    const port = await start();
    const denied = await curl(port, ["http://evil.test/"]);
    expect(denied.stdout).toMatch(/403$/);
    await vi.waitFor(() => expect(logs).toHaveLength(1));
    resolved.length = 0;
    const r = await curl(port, ["http://sandboxed.internal/egress"]);
    expect(r.stdout).toBe(
      [
        "sandboxed: egress of sandbox sbx-status (this sandbox's decisions only)",
        "allowed: 0 decisions",
        "denied: 1 decision",
        "      1x denied http evil.test:80 (no-matching-rule)",
        "",
        "200",
      ].join("\n"),
    );
    expect(resolved).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(logs).toHaveLength(1);
  });

  it.each([
    { name: "another path: 404", args: ["http://sandboxed.internal/"], status: "404" },
    { name: "POST: 405", args: ["-d", "x", "http://sandboxed.internal/egress"], status: "405" },
    {
      name: "Host header naming another host: 400",
      args: ["-H", "Host: allowed.test", "http://sandboxed.internal/egress"],
      status: "400",
    },
    {
      name: "another port goes to the policy: 403",
      args: ["http://sandboxed.internal:8080/egress"],
      status: "403",
    },
  ])("$name", async ({ args, status }) => {
    const port = await start();
    const r = await curl(port, args);
    expect(r.stdout.split("\n").at(-1)).toBe(status);
    if (status !== "403") expect(r.stdout).not.toContain("egress of sandbox");
  });

  it("says Allow: GET on 405", async () => {
    const port = await start();
    const raw = await rawExchange(
      port,
      "DELETE http://sandboxed.internal/egress HTTP/1.1\r\nHost: sandboxed.internal\r\n\r\n",
    );
    expect(raw).toMatch(/^HTTP\/1\.1 405 /);
    expect(raw).toMatch(/\r\nAllow: GET\r\n/i);
  });

  it("summarises the tally it is given (the DNS filter's refusals too)", async () => {
    const tally = createEgressTally();
    tally.add(log({ kind: "dns", host: "exfil.test", port: 0 }));
    const port = await start(tally);
    const r = await curl(port, ["http://sandboxed.internal/egress"]);
    expect(r.stdout).toContain("1x denied dns exfil.test (no-matching-rule)");
  });
});
