#!/usr/bin/env node
// `sandboxed run` end to end on the shipped sample (examples/hello): per job, sandbox create →
// report, split into boot (create to agent ready), steps, and teardown (collect and destroy);
// plus the whole run, wall clock, as a user waits for it. Figures are medians with the machine
// noted. The template is built (and cached) before the first measured run.
// Usage (root): npm run bench:run -- [--runs N] [--accel tcg|kvm]
import { execFileSync } from "node:child_process";
import { readFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    accel: { type: "string", default: "tcg" },
    "state-dir": { type: "string", default: "/var/lib/sandboxed-bench" },
  },
});
const root = path.resolve(import.meta.dirname, "..");
const bin = path.join(root, "bin", "sandboxed.js");
const runs = Number(values.runs);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const args = ["run", "-C", path.join(root, "examples", "hello"), "--accel", values.accel];
args.push("--state-dir", values["state-dir"]);

// Warm-up: builds the default template when it is not cached; not measured.
execFileSync(
  process.execPath,
  [bin, "template", "build", "default", "--state-dir", values["state-dir"]],
  {
    stdio: ["ignore", "ignore", "inherit"],
  },
);

const samples = [];
for (let i = 0; i < runs; i++) {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "sbx-bench-run-")), "report.json");
  const started = Date.now();
  execFileSync(process.execPath, [bin, ...args, "--report", file], { stdio: "ignore" });
  const wall = Date.now() - started;
  const report = JSON.parse(readFileSync(file, "utf8"));
  if (report.result !== "success") throw new Error(`run ${i + 1}: ${report.result}`);
  samples.push({ wall, jobs: report.jobs.map((j) => ({ name: j.name, ...j.timings })) });
  process.stderr.write(`run ${i + 1}/${runs}: ${s(wall)}\n`);
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
console.log(
  `sandboxed run -C examples/hello, ${runs} runs, median; ${os.cpus().length} × ${cpu}, accel ${values.accel}, Node ${process.version}`,
);
console.log("");
console.log("| job | total | boot (create → ready) | steps | teardown (collect + destroy) |");
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const name of samples[0].jobs.map((j) => j.name)) {
  const of = (k) => median(samples.map((r) => r.jobs.find((j) => j.name === name)[k]));
  console.log(
    `| ${name} | ${s(of("totalMs"))} | ${s(of("bootMs"))} | ${s(of("stepsMs"))} | ${s(of("teardownMs"))} |`,
  );
}
const wall = median(samples.map((r) => r.wall));
const boot = median(samples.map((r) => r.jobs.reduce((a, j) => a + j.bootMs, 0)));
console.log(
  `| whole run (wall clock, CLI start → report) | ${s(wall)} | boot share ${((boot / wall) * 100).toFixed(0)} % | | |`,
);
