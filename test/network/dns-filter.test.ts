/**
 * The DNS filter over real UDP and TCP sockets on 127.0.0.1, queried with dns-packet (an
 * independent encoder/decoder, so the filter's wire code is not checked against itself).
 */
import dgram from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";
import type { RecordType } from "dns-packet";
import { afterEach, describe, expect, it } from "vitest";
import { createDnsFilter } from "../../runner/network/index.js";
import type { DnsFilter, EgressDecisionLog } from "../../runner/network/index.js";
import type { NetworkPolicy } from "../../runner/policy/index.js";
import { cidrRule, hostRule, JOB, network, NOW } from "./fixtures.js";

const NAMES: Record<string, string[]> = {
  "allowed.test": ["93.184.216.34", "2606:2800:220:1::1"],
  "api.wild.test": ["93.184.216.35"],
  "rebind.test": ["169.254.169.254"],
  "loop.test": ["127.0.0.1"],
  "private.test": ["10.1.2.3"],
  "mixed.test": ["10.1.2.3", "93.184.216.36"],
  "lan.test": ["10.20.0.5"],
  "denied.test": ["93.184.216.37"],
};
const RULES = [
  hostRule("allowed.test", [443]),
  hostRule("*.wild.test", [443]),
  hostRule("rebind.test", [443]),
  hostRule("loop.test", [443]),
  hostRule("private.test", [443]),
  hostRule("mixed.test", [443]),
  hostRule("lan.test", [443]),
  hostRule("broken.test", [443]),
  cidrRule("10.20.0.0/16", [8080]),
];

let filter: DnsFilter | undefined;
let logs: EgressDecisionLog[];
afterEach(async () => {
  await filter?.close();
  filter = undefined;
});

async function start(net_: NetworkPolicy = network("allowlist", RULES)): Promise<number> {
  logs = [];
  filter = await createDnsFilter({
    listen: { host: "127.0.0.1", port: 0 },
    network: net_,
    jobId: JOB,
    resolver: async (name) => {
      if (name === "broken.test") throw new Error("upstream down");
      return NAMES[name] ?? [];
    },
    onDecision: (l) => logs.push(l),
    now: () => NOW,
  });
  return filter.port;
}

function udpAsk(port: number, msg: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, 1000);
    s.on("message", (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, "127.0.0.1");
  });
}

const query = (name: string, type: RecordType = "A", id = 7) =>
  dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: "IN" }],
  });

/** A query with a hand-made question: labels as given (so they may be illegal). */
function rawQuery(labels: Buffer[], qtype = 1): Buffer {
  const header = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const name = Buffer.concat([
    ...labels.flatMap((l) => [Buffer.from([l.length]), l]),
    Buffer.from([0]),
  ]);
  const tail = Buffer.from([qtype >> 8, qtype & 0xff, 0, 1]);
  return Buffer.concat([header, name, tail]);
}

describe("DNS filter over UDP", () => {
  it.each<{
    name: string;
    qname: string;
    qtype?: RecordType;
    rcode: string;
    answers: string[];
    verdict: "allow" | "deny";
    reason: string;
  }>([
    // --- allowed names ---
    {
      name: "allowed A",
      qname: "allowed.test",
      rcode: "NOERROR",
      answers: ["93.184.216.34"],
      verdict: "allow",
      reason: "host-rule",
    },
    {
      name: "allowed AAAA",
      qname: "allowed.test",
      qtype: "AAAA",
      rcode: "NOERROR",
      answers: ["2606:2800:220:1::1"],
      verdict: "allow",
      reason: "host-rule",
    },
    {
      name: "allowed, mixed case and trailing dot",
      qname: "AlLoWeD.TeSt.",
      rcode: "NOERROR",
      answers: ["93.184.216.34"],
      verdict: "allow",
      reason: "host-rule",
    },
    {
      name: "wildcard subdomain",
      qname: "api.wild.test",
      rcode: "NOERROR",
      answers: ["93.184.216.35"],
      verdict: "allow",
      reason: "host-rule",
    },
    {
      name: "private address inside a cidr rule (any port)",
      qname: "lan.test",
      rcode: "NOERROR",
      answers: ["10.20.0.5"],
      verdict: "allow",
      reason: "host-rule",
    },
    {
      name: "forbidden addresses dropped, public kept",
      qname: "mixed.test",
      rcode: "NOERROR",
      answers: ["93.184.216.36"],
      verdict: "allow",
      reason: "host-rule",
    },
    // --- denied names: NXDOMAIN, never resolved ---
    {
      name: "unknown name",
      qname: "denied.test",
      rcode: "NXDOMAIN",
      answers: [],
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "wildcard apex",
      qname: "wild.test",
      rcode: "NXDOMAIN",
      answers: [],
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "suffix attack",
      qname: "allowed.test.evil.example",
      rcode: "NXDOMAIN",
      answers: [],
      verdict: "deny",
      reason: "no-matching-rule",
    },
    {
      name: "tunnelling label under an attacker zone",
      qname: "mzxw6ytboi.exfil.example",
      rcode: "NXDOMAIN",
      answers: [],
      verdict: "deny",
      reason: "no-matching-rule",
    },
    // --- rebinding: allowed name, forbidden address, no answer ---
    {
      name: "rebinding to 169.254.169.254",
      qname: "rebind.test",
      rcode: "NOERROR",
      answers: [],
      verdict: "deny",
      reason: "forbidden-address",
    },
    {
      name: "rebinding to 127.0.0.1",
      qname: "loop.test",
      rcode: "NOERROR",
      answers: [],
      verdict: "deny",
      reason: "forbidden-address",
    },
    {
      name: "rebinding to 10.x",
      qname: "private.test",
      rcode: "NOERROR",
      answers: [],
      verdict: "deny",
      reason: "forbidden-address",
    },
    // --- types ---
    {
      name: "TXT refused",
      qname: "allowed.test",
      qtype: "TXT",
      rcode: "REFUSED",
      answers: [],
      verdict: "deny",
      reason: "qtype-refused",
    },
    {
      name: "NULL refused",
      qname: "allowed.test",
      qtype: "NULL",
      rcode: "REFUSED",
      answers: [],
      verdict: "deny",
      reason: "qtype-refused",
    },
    {
      name: "AXFR refused",
      qname: "allowed.test",
      qtype: "AXFR",
      rcode: "REFUSED",
      answers: [],
      verdict: "deny",
      reason: "qtype-refused",
    },
    {
      name: "MX refused",
      qname: "allowed.test",
      qtype: "MX",
      rcode: "REFUSED",
      answers: [],
      verdict: "deny",
      reason: "qtype-refused",
    },
    {
      name: "CNAME refused",
      qname: "allowed.test",
      qtype: "CNAME",
      rcode: "REFUSED",
      answers: [],
      verdict: "deny",
      reason: "qtype-refused",
    },
    // --- resolver failure ---
    {
      name: "resolver throws",
      qname: "broken.test",
      rcode: "SERVFAIL",
      answers: [],
      verdict: "deny",
      reason: "resolve-failed",
    },
  ])("$name", async ({ qname, qtype = "A", rcode, answers, verdict, reason }) => {
    const port = await start();
    const reply = dnsPacket.decode((await udpAsk(port, query(qname, qtype)))!);
    expect(reply.id).toBe(7);
    expect((reply as unknown as { rcode: string }).rcode).toBe(rcode);
    expect(reply.flag_rd).toBe(true);
    expect(reply.questions?.[0]).toMatchObject({ name: qname.replace(/\.$/, ""), type: qtype });
    expect(reply.answers?.map((a) => (a as { data?: unknown }).data)).toEqual(answers);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({
      time: NOW.toISOString(),
      job: JOB,
      kind: "dns",
      host: qname.toLowerCase().replace(/\.$/, ""),
      qtype,
      verdict,
      reason,
    });
  });

  it("ANY is refused", async () => {
    const port = await start();
    const reply = dnsPacket.decode(
      (await udpAsk(port, rawQuery([Buffer.from("allowed"), Buffer.from("test")], 255)))!,
    );
    expect((reply as unknown as { rcode: string }).rcode).toBe("REFUSED");
    expect(logs[0]).toMatchObject({ qtype: "ANY", reason: "qtype-refused" });
  });

  it("the rule that allowed is logged as file:line:col", async () => {
    const port = await start();
    await udpAsk(port, query("allowed.test"));
    expect(logs[0]!.rule).toBe(`policy.yml:${RULES[0]!.source.line}:5`);
    expect(logs[0]!.address).toBe("93.184.216.34");
  });
});

describe("malformed and oversize queries", () => {
  const label = (n: number) => Buffer.from("a".repeat(n));
  it.each<{ name: string; msg: () => Buffer; rcode: string | undefined; reason?: string }>([
    {
      name: "63-char label, allowed-shaped but unknown",
      msg: () => rawQuery([label(63), Buffer.from("test")]),
      rcode: "NXDOMAIN",
      reason: "no-matching-rule",
    },
    {
      name: "64-char label",
      msg: () => rawQuery([label(64), Buffer.from("test")]),
      rcode: "FORMERR",
      reason: "malformed",
    },
    {
      name: "253-char name",
      msg: () => rawQuery([label(63), label(63), label(63), label(61)]),
      rcode: "NXDOMAIN",
      reason: "no-matching-rule",
    },
    {
      name: "254-char name",
      msg: () => rawQuery([label(63), label(63), label(63), label(62)]),
      rcode: "REFUSED",
      reason: "name-too-long",
    },
    {
      name: "a label containing a dot",
      msg: () => rawQuery([Buffer.from("allowed.test")]),
      rcode: "REFUSED",
      reason: "invalid-name",
    },
    {
      name: "a label with a NUL byte",
      msg: () => rawQuery([Buffer.from("allowed\0"), Buffer.from("test")]),
      rcode: "REFUSED",
      reason: "invalid-name",
    },
    { name: "root name", msg: () => rawQuery([]), rcode: "REFUSED", reason: "invalid-name" },
    {
      name: "compression pointer in the question",
      msg: () =>
        Buffer.concat([rawQuery([]).subarray(0, 12), Buffer.from([0xc0, 0x00, 0, 1, 0, 1])]),
      rcode: "FORMERR",
      reason: "malformed",
    },
    {
      name: "truncated question",
      msg: () => rawQuery([Buffer.from("allowed"), Buffer.from("test")]).subarray(0, 20),
      rcode: "FORMERR",
      reason: "malformed",
    },
    {
      name: "two questions",
      msg: () => {
        const q = rawQuery([Buffer.from("allowed"), Buffer.from("test")]);
        q.writeUInt16BE(2, 4);
        return q;
      },
      rcode: "FORMERR",
      reason: "malformed",
    },
    {
      name: "opcode STATUS",
      msg: () => {
        const q = rawQuery([Buffer.from("allowed"), Buffer.from("test")]);
        q.writeUInt16BE(0x1100, 2);
        return q;
      },
      rcode: "NOTIMP",
      reason: "not-a-query",
    },
    {
      name: "a response packet is not answered",
      msg: () => {
        const q = rawQuery([Buffer.from("allowed"), Buffer.from("test")]);
        q.writeUInt16BE(0x8100, 2);
        return q;
      },
      rcode: undefined,
    },
    { name: "11 bytes are not answered", msg: () => Buffer.alloc(11), rcode: undefined },
  ])("$name", async ({ msg, rcode, reason }) => {
    const port = await start();
    const raw = await udpAsk(port, msg());
    if (rcode === undefined) {
      expect(raw).toBeUndefined();
      expect(logs).toHaveLength(0);
      return;
    }
    expect((dnsPacket.decode(raw!) as unknown as { rcode: string }).rcode).toBe(rcode);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ kind: "dns", verdict: "deny", reason });
  });
});

describe("DNS over TCP", () => {
  it("answers length-prefixed queries, several on one connection, in order", async () => {
    const port = await start();
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => {
        s.write(
          dnsPacket.streamEncode({
            type: "query",
            id: 1,
            questions: [{ type: "A", name: "allowed.test" }],
          }),
        );
        s.write(
          dnsPacket.streamEncode({
            type: "query",
            id: 2,
            questions: [{ type: "A", name: "denied.test" }],
          }),
        );
      });
      let buf = Buffer.alloc(0);
      const out: Buffer[] = [];
      s.on("data", (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          out.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (out.length === 2) {
          s.destroy();
          resolve(out);
        }
      });
      s.on("error", reject);
    });
    const [a, b] = replies.map((r) => dnsPacket.decode(r));
    expect(a!.id).toBe(1);
    expect(a!.answers?.map((x) => (x as { data?: unknown }).data)).toEqual(["93.184.216.34"]);
    expect(b!.id).toBe(2);
    expect((b as unknown as { rcode: string }).rcode).toBe("NXDOMAIN");
    expect(logs.map((l) => l.verdict)).toEqual(["allow", "deny"]);
  });
});

describe("modes", () => {
  it("audit answers a name outside the policy and records wouldDeny", async () => {
    const port = await start(network("audit", RULES));
    const reply = dnsPacket.decode((await udpAsk(port, query("denied.test")))!);
    expect(reply.answers?.map((a) => (a as { data?: unknown }).data)).toEqual(["93.184.216.37"]);
    expect(logs[0]).toMatchObject({
      verdict: "allow",
      reason: "no-matching-rule",
      wouldDeny: true,
    });
  });

  it("audit answers a rebinding name and records wouldDeny", async () => {
    const port = await start(network("audit", RULES));
    const reply = dnsPacket.decode((await udpAsk(port, query("rebind.test")))!);
    expect(reply.answers?.map((a) => (a as { data?: unknown }).data)).toEqual(["169.254.169.254"]);
    expect(logs[0]).toMatchObject({
      verdict: "allow",
      reason: "forbidden-address",
      wouldDeny: true,
    });
  });

  it("audit still refuses TXT", async () => {
    const port = await start(network("audit", RULES));
    const reply = dnsPacket.decode((await udpAsk(port, query("allowed.test", "TXT")))!);
    expect((reply as unknown as { rcode: string }).rcode).toBe("REFUSED");
  });

  it("mode none answers nothing", async () => {
    const port = await start(network("none", RULES));
    const reply = dnsPacket.decode((await udpAsk(port, query("allowed.test")))!);
    expect((reply as unknown as { rcode: string }).rcode).toBe("NXDOMAIN");
    expect(logs[0]).toMatchObject({ reason: "mode-none" });
  });
});

describe("errors", () => {
  it("SBX_NETWORK_LISTEN when the port is taken, with a hint", async () => {
    const port = await start();
    await expect(
      createDnsFilter({
        listen: { host: "127.0.0.1", port },
        network: network("allowlist", RULES),
        jobId: JOB,
        resolver: async () => [],
        onDecision: () => undefined,
      }),
    ).rejects.toMatchObject({
      code: "SBX_NETWORK_LISTEN",
      message: `DNS filter (UDP) cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      hint: `free the port (ss -ltnup 'sport = :${port}') or listen on port 0`,
    });
  });
});
