#!/usr/bin/env node
// Egress proxy benchmark: throughput and added latency of the proxy versus a direct connection,
// in one run, on loopback. HTTP by Host and HTTPS by CONNECT (with the SNI peek), as ratios.
// Usage: npm run bench:proxy [-- --mib 256 --requests 300]
import { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { createEgressProxy } from "../build/runner/network/index.js";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "256" },
    requests: { type: "string", default: "300" },
  },
});
const BYTES = Number(values.mib) * 2 ** 20;
const REQUESTS = Number(values.requests);
const CHUNK = Buffer.alloc(2 ** 20, 120);

const dir = mkdtempSync(path.join(os.tmpdir(), "sbx-bench-proxy-"));
execFileSync(
  "openssl",
  [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=bench.test",
    "-addext",
    "subjectAltName=DNS:bench.test",
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/cert.pem`,
  ],
  { stdio: "ignore" },
);

function handler(req, res) {
  if (req.url === "/big") {
    res.writeHead(200, { "content-length": BYTES });
    let sent = 0;
    const pump = () => {
      while (sent < BYTES) {
        sent += CHUNK.length;
        if (!res.write(CHUNK)) return res.once("drain", pump);
      }
      res.end();
    };
    pump();
  } else res.end("ok");
}
const listen = (server) =>
  new Promise((r) => server.listen(0, "127.0.0.1", () => r(server.address().port)));
const httpPort = await listen(http.createServer(handler));
const httpsPort = await listen(
  https.createServer(
    { key: readFileSync(`${dir}/key.pem`), cert: readFileSync(`${dir}/cert.pem`) },
    handler,
  ),
);

const source = { file: "bench", line: 1, col: 1, endLine: 1, endCol: 1 };
const proxy = await createEgressProxy({
  listen: { host: "127.0.0.1", port: 0 },
  network: {
    mode: "allowlist",
    bandwidth: { egressBps: 1e12, ingressBps: 1e12 },
    allow: [
      { kind: "host", host: "bench.test", wildcard: false, ports: [httpPort, httpsPort], source },
      { kind: "cidr", cidr: "127.0.0.0/8", ports: [httpPort, httpsPort], source },
    ],
  },
  jobId: "bench",
  resolver: async () => ["127.0.0.1"],
  onDecision: () => undefined,
});

/** An agent that tunnels HTTPS through the proxy with CONNECT. */
function tunnelAgent() {
  const agent = new https.Agent({ keepAlive: false, rejectUnauthorized: false });
  agent.createConnection = (_opts, cb) => {
    const s = net.connect(proxy.port, "127.0.0.1", () =>
      s.write(`CONNECT bench.test:${httpsPort} HTTP/1.1\r\nHost: bench.test:${httpsPort}\r\n\r\n`),
    );
    s.once("data", (d) => {
      if (!d.toString().startsWith("HTTP/1.1 200")) return cb(new Error(d.toString()));
      cb(null, tls.connect({ socket: s, servername: "bench.test", rejectUnauthorized: false }));
    });
  };
  return agent;
}

function get(url, options) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const lib = url.startsWith("https") ? https : http;
    const req = lib.get(
      url,
      { ...options, rejectUnauthorized: false, servername: "bench.test" },
      (res) => {
        let n = 0;
        res.on("data", (c) => (n += c.length));
        res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, bytes: n }));
      },
    );
    req.on("error", reject);
  });
}

const viaProxyHttp = (p) => ({
  host: "127.0.0.1",
  port: proxy.port,
  path: `http://bench.test:${httpPort}${p}`,
  headers: { host: `bench.test:${httpPort}` },
});

/** Best of 3 after a warm-up: a loaded 2-core host makes single runs swing widely. */
async function throughput(label, fn) {
  await fn();
  let best = 0;
  for (let i = 0; i < 3; i++) {
    const r = await fn();
    best = Math.max(best, (r.bytes * 8) / (r.ms / 1000) / 1e6);
  }
  return { label, mbps: best };
}
async function latency(fn) {
  for (let i = 0; i < 20; i++) await fn();
  const xs = [];
  for (let i = 0; i < REQUESTS; i++) xs.push((await fn()).ms);
  xs.sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

const rows = [];
const directHttp = await throughput("http direct", () => get(`http://127.0.0.1:${httpPort}/big`));
const proxiedHttp = await throughput(
  "http via proxy",
  () =>
    new Promise((resolve, reject) => {
      const t = process.hrtime.bigint();
      http
        .get(viaProxyHttp("/big"), (res) => {
          let n = 0;
          res.on("data", (c) => (n += c.length));
          res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6, bytes: n }));
        })
        .on("error", reject);
    }),
);
const directHttps = await throughput("https direct", () =>
  get(`https://127.0.0.1:${httpsPort}/big`),
);
const proxiedHttps = await throughput("https via CONNECT", () =>
  get(`https://bench.test:${httpsPort}/big`, { agent: tunnelAgent() }),
);
rows.push([
  "HTTP throughput, proxy / direct",
  `${(proxiedHttp.mbps / directHttp.mbps).toFixed(2)} (${proxiedHttp.mbps.toFixed(0)} vs ${directHttp.mbps.toFixed(0)} Mbit/s)`,
]);
rows.push([
  "HTTPS throughput, CONNECT / direct",
  `${(proxiedHttps.mbps / directHttps.mbps).toFixed(2)} (${proxiedHttps.mbps.toFixed(0)} vs ${directHttps.mbps.toFixed(0)} Mbit/s)`,
]);

const lDirect = await latency(() => get(`http://127.0.0.1:${httpPort}/small`, { agent: false }));
const lProxy = await latency(
  () =>
    new Promise((resolve, reject) => {
      const t = process.hrtime.bigint();
      http
        .get({ ...viaProxyHttp("/small"), agent: false }, (res) => {
          res.resume();
          res.on("end", () => resolve({ ms: Number(process.hrtime.bigint() - t) / 1e6 }));
        })
        .on("error", reject);
    }),
);
const lsDirect = await latency(() => get(`https://127.0.0.1:${httpsPort}/small`, { agent: false }));
const lsProxy = await latency(() =>
  get(`https://bench.test:${httpsPort}/small`, { agent: tunnelAgent() }),
);
rows.push([
  `HTTP request latency, median of ${REQUESTS} (new connection each)`,
  `${lProxy.toFixed(2)} vs ${lDirect.toFixed(2)} ms: +${(lProxy - lDirect).toFixed(2)} ms, ratio ${(lProxy / lDirect).toFixed(2)}`,
]);
rows.push([
  `HTTPS request latency, median of ${REQUESTS} (new TLS each)`,
  `${lsProxy.toFixed(2)} vs ${lsDirect.toFixed(2)} ms: +${(lsProxy - lsDirect).toFixed(2)} ms, ratio ${(lsProxy / lsDirect).toFixed(2)}`,
]);

console.log(
  `machine: ${os.cpus()[0].model.trim()}, ${os.cpus().length} cores, Node ${process.version}, loopback, ${values.mib} MiB transfers`,
);
for (const [k, v] of rows) console.log(`${k.padEnd(62)} ${v}`);
await proxy.close();
process.exit(0);
