#!/usr/bin/env node
// VM sandbox benchmark: template build (cached; --cold also rebuilds from scratch), boot to
// agent ready, destroy, and host memory per sandbox. Prints figures with the machine noted.
// Usage (root): npm run bench -- [--cold] [--runs N] [--accel tcg|kvm]
import { readFileSync, writeFileSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadOptions, packageRoot } from "../build/runner/cli/policy-files.js";
import { loadPolicy } from "../build/runner/policy/index.js";
import { buildTemplate, createVmSandbox } from "../build/runner/sandbox/vm/index.js";

const { values } = parseArgs({
  options: {
    cold: { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
    accel: { type: "string", default: "tcg" },
    "state-dir": { type: "string", default: "/var/lib/sandboxed-bench" },
  },
});
const runs = Number(values.runs);
const stateDir = values["state-dir"];
const root = packageRoot();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

function qemuRss(id) {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(id)) continue;
      if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("qemu")) continue;
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      return Number(m[1]) * 1024;
    } catch {
      // raced with exit
    }
  }
  return undefined;
}

const machine = `${os.cpus()[0].model.trim()}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, kernel ${os.release()}, accel ${values.accel}`;
console.log(`machine: ${machine}`);

const lines = [];
if (values.cold) {
  const coldDir = mkdtempSync(path.join(os.tmpdir(), "sbx-bench-cold-"));
  const t = Date.now();
  await buildTemplate({ name: "minimal", stateDir: coldDir, root });
  lines.push(["template build minimal, cold", fmt(Date.now() - t)]);
}
let t = Date.now();
const { template, cached } = await buildTemplate({ name: "minimal", stateDir, root });
lines.push([`template build minimal, ${cached ? "cached" : "first build"}`, fmt(Date.now() - t)]);

const dir = mkdtempSync(path.join(os.tmpdir(), "sbx-bench-"));
const file = path.join(dir, "p.yml");
writeFileSync(
  file,
  "apiVersion: sandboxed/v1\nkind: Policy\nresources: { cpus: 1, memory: 512MiB, disk: 1GiB, timeout: 5m }\nnetwork: { mode: none }\n",
);
const { policy } = loadPolicy(file, loadOptions(root));

const boots = [];
const firstStep = [];
const destroys = [];
const rss = [];
for (let i = 0; i < runs; i++) {
  const id = `sbx-bench-${process.pid}-${i}`;
  const started = Date.now();
  let stepAt;
  const box = createVmSandbox({
    id,
    policy,
    stateDir,
    template,
    accel: values.accel,
    onEvent: (e) => {
      if (e.type === "step-start") {
        stepAt = Date.now() - started;
        const r = qemuRss(id);
        if (r) rss.push(r);
      }
    },
  });
  const report = await box.run({ steps: [{ name: "idle", argv: ["sleep", "1"] }] });
  const d = Date.now();
  await box.destroy();
  destroys.push(Date.now() - d);
  if (report.outcome !== "success")
    throw new Error(`run ${i}: ${report.outcome} ${report.error ?? ""}`);
  boots.push(report.timings.bootMs);
  firstStep.push(stepAt);
}
lines.push([
  `boot to agent ready (median of ${runs})`,
  `${fmt(median(boots))} (min ${fmt(Math.min(...boots))}, max ${fmt(Math.max(...boots))})`,
]);
lines.push([`start to first step (median of ${runs})`, fmt(median(firstStep))]);
lines.push([`destroy (median of ${runs})`, `${median(destroys)} ms`]);
lines.push([
  "host memory per sandbox: QEMU RSS with a 512 MiB guest, idle",
  `${Math.round(median(rss) / 2 ** 20)} MiB (${((median(rss) / (512 * 2 ** 20)) * 100).toFixed(0)}% of guest RAM)`,
]);
for (const [k, v] of lines) console.log(`${k.padEnd(62)} ${v}`);
