// Test servers and probes for the network-namespace suites (net-topology.ts). Plain JavaScript so
// it runs under `ip netns exec <ns> node net-fixtures.mjs <command> ...` with no build step.
//
//   internet <certdir> <webroot> the fake internet (run in sbxt-internet only): DNS on 8.8.8.8 and
//                                1.1.1.1 (UDP+TCP 53), HTTP/HTTPS on 93.184.216.34 (allowed.test;
//                                GET of a file under <webroot> serves it, read at request time),
//                                "forbidden" on 203.0.113.10:80/443/22, fake metadata on
//                                169.254.169.254:80
//   listen <addr> <port>         a stand-in for the proxy: PING -> PONG, GET n, PUT n
//   dns <addr>                   a DNS server (UDP+TCP 53) answering from the fixed records
//   tcp <host> <port> <ms>       exit 0 if a TCP connection opens (a SYN-ACK came back)
//   dns-udp <host> <port> <ms>   exit 0 if a DNS answer comes back over UDP
//   dns-tcp <host> <port> <ms>   same over TCP
//   get|put <host> <port> <n>    transfer n bytes down/up, print elapsed milliseconds
//   forward <from> <to>          pipe each connection from one socket to another; each is
//                                tcp:<addr>:<port> or unix:<path> (a unix socket crosses network
//                                namespaces, so a server in the test process can serve a namespace)
// Every server prints "ready" once all its sockets listen.
import { Buffer } from "node:buffer";
import console from "node:console";
import dgram from "node:dgram";
import { readFileSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import process from "node:process";
import { clearTimeout, setTimeout } from "node:timers";

// loopback/metadata/private.test: allowed names whose answers must never be dialled (rebinding).
const RECORDS = {
  "allowed.test": "93.184.216.34",
  "forbidden.test": "203.0.113.10",
  "other.test": "93.184.216.34",
  "loopback.test": "127.0.0.1",
  "metadata.test": "169.254.169.254",
  "private.test": "10.1.2.3",
  "github.test": "93.184.216.40",
};

/** Answer an A query from RECORDS, NXDOMAIN otherwise (RFC 1035 §4.1). */
function dnsAnswer(query) {
  let off = 12;
  const labels = [];
  while (off < query.length && query[off] !== 0) {
    labels.push(query.subarray(off + 1, off + 1 + query[off]).toString("latin1"));
    off += query[off] + 1;
  }
  const question = query.subarray(12, off + 5);
  const qtype = query.readUInt16BE(off + 1);
  const address = qtype === 1 ? RECORDS[labels.join(".").toLowerCase()] : undefined;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(address === undefined ? 0x8183 : 0x8180, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(address === undefined ? 0 : 1, 6);
  const answer =
    address === undefined
      ? Buffer.alloc(0)
      : Buffer.concat([
          Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]),
          Buffer.from(address.split(".").map(Number)),
        ]);
  return Buffer.concat([header, question, answer]);
}

function dnsQuery(name) {
  const labels = name
    .split(".")
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([
    Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels,
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
}

const listening = (server, port, host) =>
  new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });

function dnsServer(host) {
  const udp = dgram.createSocket("udp4");
  udp.on("message", (msg, rinfo) => udp.send(dnsAnswer(msg), rinfo.port, rinfo.address));
  const tcp = net.createServer((s) => {
    s.on("error", () => {});
    s.once("data", (d) => {
      const answer = dnsAnswer(d.subarray(2));
      const len = Buffer.alloc(2);
      len.writeUInt16BE(answer.length);
      s.end(Buffer.concat([len, answer]));
    });
  });
  return [new Promise((resolve) => udp.bind(53, host, resolve)), listening(tcp, 53, host)];
}

/**
 * The file under webroot a GET names (never outside webroot); null when the path is under one of
 * webroot's folders but names no file (a 404); undefined when webroot has nothing to say.
 */
function webFile(webroot, url) {
  if (!webroot) return undefined;
  // A proxy may pass the absolute form on (http://host/path): only the path names the file.
  const local = url.replace(/^https?:\/\/[^/]+/, "").split("?")[0];
  const rel = path.normalize(decodeURIComponent(local)).replace(/^\/+/, "");
  if (rel === "" || rel === "." || rel.startsWith("..")) return undefined;
  const file = path.join(webroot, rel);
  try {
    if (statSync(file).isFile()) return file;
  } catch {
    // not there
  }
  // Below a folder the web root has (debian/...), a missing file is a 404: apt asks for InRelease
  // first. Anything else is left to the page's own answers.
  const [top, ...below] = rel.split("/");
  if (below.length === 0) return undefined;
  try {
    return statSync(path.join(webroot, top)).isDirectory() ? null : undefined;
  } catch {
    return undefined;
  }
}

async function internet(certdir, webroot) {
  // One process is the whole internet: a socket error must never take it down.
  process.on("uncaughtException", (error) => console.error(`internet: ${error.message}`));
  const waits = [...dnsServer("8.8.8.8"), ...dnsServer("1.1.1.1")];
  // GET /bytes/<n>: n bytes down; a request body (PUT/POST) is read and counted: bandwidth tests.
  // GET of a file under webroot: that file (an apt repository, say); HEAD alike, without a body.
  const page = (body) => (req, res) => {
    const file = ["GET", "HEAD"].includes(req.method)
      ? webFile(webroot, req.url ?? "/")
      : undefined;
    if (file === null) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (file) {
      const content = readFileSync(file);
      res.writeHead(200, { "content-length": content.length });
      res.end(req.method === "HEAD" ? undefined : content);
      return;
    }
    const m = /^\/bytes\/(\d+)$/.exec(req.url ?? "");
    if (m) {
      res.writeHead(200, { "content-length": m[1] });
      res.end(Buffer.alloc(Number(m[1]), 120));
      return;
    }
    let got = 0;
    req.on("data", (c) => (got += c.length));
    req.on("end", () => res.end(got > 0 ? `received ${got}\n` : body));
  };
  waits.push(listening(http.createServer(page("allowed\n")), 80, "93.184.216.34"));
  const tls = {
    key: readFileSync(`${certdir}/key.pem`),
    cert: readFileSync(`${certdir}/cert.pem`),
  };
  waits.push(listening(https.createServer(tls, page("allowed over tls\n")), 443, "93.184.216.34"));
  for (const port of [80, 443, 22]) {
    waits.push(
      listening(
        // A probe that connects and resets at once makes this write fail (ECONNRESET/EPIPE):
        // without a handler that error killed the whole fake internet mid-suite (the old
        // "test world controls" flake, seen after the egress suite).
        net.createServer((s) => {
          s.on("error", () => {});
          s.end("forbidden\n");
        }),
        port,
        "203.0.113.10",
      ),
    );
  }
  waits.push(listening(http.createServer(page("fake metadata\n")), 80, "169.254.169.254"));
  await Promise.all(waits);
  console.log("ready");
}

async function listen(addr, port) {
  const server = net.createServer((s) => {
    let head = Buffer.alloc(0);
    const onData = (d) => {
      head = Buffer.concat([head, d]);
      const nl = head.indexOf(10);
      if (nl < 0) return;
      s.off("data", onData);
      const [verb, n] = head.subarray(0, nl).toString().trim().split(" ");
      const rest = head.subarray(nl + 1);
      if (verb === "PING") s.end("PONG\n");
      else if (verb === "GET") s.end(Buffer.alloc(Number(n), 0x61));
      else if (verb === "PUT") {
        let got = rest.length;
        const check = () => {
          if (got >= Number(n)) s.end("OK\n");
        };
        s.on("data", (c) => {
          got += c.length;
          check();
        });
        check();
      } else s.end("?\n");
    };
    s.on("data", onData);
    s.on("error", () => {});
  });
  await listening(server, Number(port), addr);
  console.log("ready");
}

function connect(host, port, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port), timeout: Number(ms) });
    s.on("connect", () => {
      s.destroy();
      resolve(0);
    });
    s.on("timeout", () => {
      s.destroy();
      resolve(1);
    });
    s.on("error", () => resolve(1));
  });
}

function dnsUdp(host, port, ms) {
  return new Promise((resolve) => {
    const udp = dgram.createSocket("udp4");
    const timer = setTimeout(() => {
      udp.close();
      resolve(1);
    }, Number(ms));
    udp.on("message", () => {
      clearTimeout(timer);
      udp.close();
      resolve(0);
    });
    udp.on("error", () => resolve(1));
    udp.send(dnsQuery("allowed.test"), Number(port), host);
  });
}

function dnsTcp(host, port, ms) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port), timeout: Number(ms) });
    s.on("connect", () => {
      const q = dnsQuery("allowed.test");
      const len = Buffer.alloc(2);
      len.writeUInt16BE(q.length);
      s.write(Buffer.concat([len, q]));
    });
    s.once("data", () => {
      s.destroy();
      resolve(0);
    });
    s.on("timeout", () => {
      s.destroy();
      resolve(1);
    });
    s.on("error", () => resolve(1));
  });
}

function transfer(verb, host, port, n) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const s = net.connect({ host, port: Number(port) });
    let got = 0;
    s.on("connect", () => {
      s.write(`${verb} ${n}\n`);
      if (verb === "PUT") s.write(Buffer.alloc(Number(n), 0x62));
    });
    s.on("data", (d) => {
      got += d.length;
    });
    s.on("end", () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (verb === "GET" && got !== Number(n)) {
        console.error(`got ${got} of ${n} bytes`);
        resolve(1);
        return;
      }
      console.log(ms.toFixed(1));
      resolve(0);
    });
    s.on("error", (e) => {
      console.error(String(e));
      resolve(1);
    });
  });
}

function endpoint(spec) {
  if (spec.startsWith("unix:")) return { path: spec.slice(5) };
  const m = /^tcp:(.+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`bad endpoint ${spec}: write tcp:<addr>:<port> or unix:<path>`);
  return { host: m[1], port: Number(m[2]) };
}

function forward(from, to) {
  const target = endpoint(to);
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  server.on("error", (e) => {
    console.error(String(e));
    process.exit(1);
  });
  const listen = endpoint(from);
  if (listen.path) rmSync(listen.path, { force: true });
  server.listen(listen, () => console.log("ready"));
  return new Promise(() => undefined);
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  internet: () => internet(args[0], args[1]),
  listen: () => listen(args[0], args[1]),
  dns: () => Promise.all(dnsServer(args[0])).then(() => console.log("ready")),
  tcp: () => connect(args[0], args[1], args[2]).then((c) => process.exit(c)),
  "dns-udp": () => dnsUdp(args[0], args[1], args[2]).then((c) => process.exit(c)),
  "dns-tcp": () => dnsTcp(args[0], args[1], args[2]).then((c) => process.exit(c)),
  get: () => transfer("GET", args[0], args[1], args[2]).then((c) => process.exit(c)),
  put: () => transfer("PUT", args[0], args[1], args[2]).then((c) => process.exit(c)),
  forward: () => forward(args[0], args[1]),
};
const run = commands[command];
if (run === undefined) {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
await run();
