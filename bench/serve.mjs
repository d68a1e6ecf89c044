#!/usr/bin/env node
// `sandboxed serve` intake latency (issue 6): 20 jobs queued at once on the GitHub emulator, served
// on capacity 3 in real VMs; for each job, the time from GitHub queuing it (the job's created_at)
// to its sandbox being ready (the agent's ready message, from the service's job record). It runs
// the end-to-end suite's "20 queued jobs" scenario, which writes the figures, and prints p50/p95
// with the machine noted. Jobs wait for a slot, so the tail grows with the queue: the figures
// read as "how long the 20th job waits on 3 slots", not one job's start-up.
// Usage (root): npm run bench:serve
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(mkdtempSync(path.join(os.tmpdir(), "sbx-bench-serve-")), "latency.json");
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
const sorted = [...latencies].sort((a, b) => a - b);
const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const s = (x) => `${x.toFixed(1)} s`;
const cpu = os.cpus()[0]?.model ?? "unknown cpu";
console.log(
  `machine: ${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB; guests under TCG`,
);
console.log(`jobs: ${sorted.length} queued at once, capacity 3`);
console.log(
  `queue → sandbox ready: p50 ${s(at(0.5))}, p95 ${s(at(0.95))}, min ${s(sorted[0])}, max ${s(sorted.at(-1))}`,
);
console.log(`first wave (a free slot waiting): ${sorted.slice(0, 3).map(s).join(", ")}`);
