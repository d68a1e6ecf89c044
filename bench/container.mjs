#!/usr/bin/env node
// Container backend (runsc here) against the VM backend (TCG here), in one run, alternating the
// backends so both see the same machine: start to the first step, destroy, the wall time of a
// `true` job, and the host memory of a sandbox while a `sleep 2` step runs; with network mode
// none, then with an allowlist (its egress set-up: netns, veth, nftables, proxy, DNS filter).
// --cold first removes the template's Docker image and times its import (first use).
// Usage (root): npm run bench:container -- [--cold] [--runs N] [--accel tcg|kvm]
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { loadOptions, packageRoot } from "../build/runner/cli/policy-files.js";
import { loadPolicy } from "../build/runner/policy/index.js";
import {
  connectDocker,
  createContainerSandbox,
  DEFAULT_DOCKER_SOCKET,
  ensureImage,
  imageTag,
} from "../build/runner/sandbox/container/index.js";
import { buildTemplate, createVmSandbox } from "../build/runner/sandbox/vm/index.js";

const { values } = parseArgs({
  options: {
    cold: { type: "boolean", default: false },
    runs: { type: "string", default: "5" },
    accel: { type: "string", default: "tcg" },
    "state-dir": { type: "string", default: "/var/lib/sandboxed-bench" },
    "docker-socket": { type: "string", default: DEFAULT_DOCKER_SOCKET },
  },
});
const runs = Number(values.runs);
const stateDir = values["state-dir"];
const socket = values["docker-socket"];
const root = packageRoot();
const docker = connectDocker(socket);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
const mib = (b) => `${Math.round(b / 2 ** 20)} MiB`;

/** Resident memory of the processes whose command line holds `needle` (and, if given, comm). */
function rssOf(needle, comm) {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle)) continue;
      if (comm && !readFileSync(`/proc/${pid}/comm`, "utf8").startsWith(comm)) continue;
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // raced with exit
    }
  }
  return total || undefined;
}

/** The sandbox's host memory: QEMU's RSS, or the container cgroup's usage (and runsc's RSS). */
async function memoryOf(backend, id) {
  if (backend === "vm") return { host: rssOf(id, "qemu") };
  const { Id } = await docker.getContainer(id).inspect();
  const usage = readFileSync(`/sys/fs/cgroup/memory/sandboxed/${Id}/memory.usage_in_bytes`, "utf8");
  return { host: Number(usage), rss: rssOf(Id) };
}

const machine = `${os.cpus()[0].model.trim()}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, kernel ${os.release()}, vm accel ${values.accel}, container runtime runsc`;
console.log(`machine: ${machine}`);

const { template } = await buildTemplate({ name: "minimal", stateDir, root });
if (values.cold) {
  const tag = imageTag(template);
  await docker
    .getImage(tag)
    .remove({ force: true })
    .catch(() => undefined);
  const { imported, seconds } = await ensureImage(docker, template);
  console.log(`image import ${tag}: ${imported ? `${seconds.toFixed(2)} s` : "already there"}`);
} else {
  await ensureImage(docker, template);
}

const dir = mkdtempSync(path.join(os.tmpdir(), "sbx-bench-container-"));
function policyWith(network) {
  const file = path.join(dir, `${network.split(",")[0].replace(/\W/g, "")}.yml`);
  writeFileSync(
    file,
    "apiVersion: sandboxed/v1\nkind: Policy\nresources: { cpus: 1, memory: 512MiB, disk: 1GiB, timeout: 5m }\n" +
      `network: { ${network} }\n`,
  );
  return loadPolicy(file, loadOptions(root)).policy;
}
const series = {
  none: policyWith("mode: none"),
  allowlist: policyWith("mode: allowlist, allow: [{ host: example.com, ports: [443] }]"),
};

let counter = 0;
/** One job in a fresh sandbox: create → step-start, run → destroy, a memory sample 1 s into the step. */
async function job(backend, policy, argv) {
  const id = `sbx-bench-${process.pid}-${++counter}`;
  let memory;
  let firstStep;
  const started = Date.now();
  const onEvent = (e) => {
    if (e.type !== "step-start" || firstStep !== undefined) return;
    firstStep = Date.now() - started;
    if (argv[0] === "sleep") memory = sleep(1000).then(() => memoryOf(backend, id));
  };
  const common = { id, policy, stateDir, onEvent };
  const box =
    backend === "vm"
      ? createVmSandbox({ ...common, template, accel: values.accel })
      : createContainerSandbox({ ...common, image: template, dockerSocket: socket });
  let report;
  let destroyMs;
  try {
    report = await box.run({ steps: [{ name: argv[0], argv }] });
  } finally {
    const d = Date.now();
    await box.destroy();
    destroyMs = Date.now() - d;
  }
  const total = Date.now() - started;
  if (report.outcome !== "success")
    throw new Error(`${backend} ${id}: ${report.outcome} ${report.error ?? ""}`);
  return { firstStep, destroyMs, total, memory: await memory, label: report.backend };
}

const results = {};
const labels = {};
for (const name of Object.keys(series)) {
  results[name] = {};
  for (const b of ["vm", "container"])
    results[name][b] = { firstStep: [], destroy: [], total: [], memory: [], rss: [] };
}
for (let i = 0; i < runs; i++) {
  // Alternate which backend goes first, so neither always follows the other's teardown.
  const order = i % 2 === 0 ? ["vm", "container"] : ["container", "vm"];
  for (const [name, policy] of Object.entries(series)) {
    for (const backend of order) {
      const r = results[name][backend];
      const t = await job(backend, policy, ["true"]);
      labels[backend] = t.label;
      r.firstStep.push(t.firstStep);
      r.destroy.push(t.destroyMs);
      r.total.push(t.total);
      const m = await job(backend, policy, ["sleep", "2"]);
      if (m.memory?.host) r.memory.push(m.memory.host);
      if (m.memory?.rss) r.rss.push(m.memory.rss);
      console.log(
        `run ${i + 1}/${runs} ${name} ${backend}: first step ${sec(t.firstStep)}, destroy ${t.destroyMs} ms, ` +
          `total ${sec(t.total)}, memory ${m.memory?.host ? mib(m.memory.host) : "?"}`,
      );
    }
  }
}

/** "vm 9.8 s, runsc 1.2 s, ratio 0.12 (8.2x faster)". */
function compare(v, c, show, smaller = "faster", larger = "slower") {
  const ratio = c / v;
  const word =
    ratio <= 1 ? `${(1 / ratio).toFixed(1)}x ${smaller}` : `${ratio.toFixed(1)}x ${larger}`;
  return `vm ${show(v)}, runsc ${show(c)}, ratio ${ratio.toFixed(2)} (${word})`;
}
console.log(`\nbackends: ${labels.vm} / ${labels.container}; medians of ${runs}`);
for (const name of Object.keys(series)) {
  const { vm, container } = results[name];
  const rows = [
    ["start to first step", compare(median(vm.firstStep), median(container.firstStep), sec)],
    ["destroy", compare(median(vm.destroy), median(container.destroy), (x) => `${x} ms`)],
    [
      "`true` job, wall (create → destroyed)",
      compare(median(vm.total), median(container.total), sec),
    ],
    [
      "host memory during `sleep 2`",
      compare(median(vm.memory), median(container.memory), mib, "less", "more"),
    ],
  ];
  console.log(`network ${name}:`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(44)} ${v}`);
  if (container.rss.length > 0)
    console.log(
      `  ${"runsc processes' RSS (sandbox, gofer, shim)".padEnd(44)} ${mib(median(container.rss))}`,
    );
}
