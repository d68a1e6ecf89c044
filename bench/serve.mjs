#!/usr/bin/env node
// `sandboxed serve` intake latency (issue 6), on both backends (issue 7): 20 jobs queued at once on
// the GitHub emulator, odd ones for a VM label set and even ones for a container label set, served
// on one capacity of 3; for each job, the time from GitHub queuing it (the job's created_at) to its
// sandbox being ready (the agent's ready message, from the service's job record), and the parts:
// slot → ready (create + boot) and ready → done (runner, script, destroy). It runs the end-to-end
// suite's "20 queued jobs" scenario, which writes the figures, and prints them by backend with the
// machine noted. Jobs wait for a slot, so the queue → ready tail grows with the queue: it reads as
// "how long the 20th job waits on 3 slots", not one job's start-up.
// Usage (root): npm run bench:serve
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(mkdtempSync(path.join(os.tmpdir(), "sbx-bench-serve-")), "latency.json");
const started = Date.now();
execFileSync(
  path.join(root, "node_modules", ".bin", "vitest"),
  ["run", "test/integration/serve.test.ts", "-t", "runs 20 queued jobs"],
  {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, SANDBOXED_BENCH_OUT: out },
  },
);
const { latencies } = JSON.parse(readFileSync(out, "utf8"));

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
};
const s = (x) => `${x.toFixed(1)} s`;
const cpu = os.cpus()[0]?.model ?? "unknown cpu";
console.log(
  `machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; VM guests under TCG, containers under runsc`,
);
console.log(
  `jobs: ${latencies.length} queued at once (odd: vm, even: container), capacity 3 shared`,
);
const rows = [
  ["all", latencies],
  ["vm", latencies.filter((l) => l.backend === "vm")],
  ["container", latencies.filter((l) => l.backend === "container")],
];
for (const [name, ls] of rows) {
  const of = (key) => ls.map((l) => l[key]);
  console.log(
    `${name.padEnd(9)} (${String(ls.length).padStart(2)}): queue → ready p50 ${s(quantile(of("queueToReady"), 0.5))}, ` +
      `p95 ${s(quantile(of("queueToReady"), 0.95))}; slot → ready p50 ${s(quantile(of("slotToReady"), 0.5))}, ` +
      `max ${s(Math.max(...of("slotToReady")))}; ready → done p50 ${s(quantile(of("readyToDone"), 0.5))}`,
  );
}
const vm = latencies.filter((l) => l.backend === "vm").map((l) => l.slotToReady);
const ct = latencies.filter((l) => l.backend === "container").map((l) => l.slotToReady);
console.log(
  `slot → ready, container / vm (p50): ${(quantile(ct, 0.5) / quantile(vm, 0.5)).toFixed(2)}`,
);
console.log(`whole scenario (service start, 20 jobs, checks): ${s((Date.now() - started) / 1000)}`);
