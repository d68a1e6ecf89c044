// Shared by the integration suites: policies from text, the test state folder, host probes.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadOptions } from "../../runner/cli/policy-files.js";
import { loadPolicy } from "../../runner/policy/index.js";
import type { ResolvedPolicy } from "../../runner/policy/index.js";

/** Templates are cached here across runs; sandboxes get fresh ids, so nothing else is shared. */
export const TEST_STATE_DIR = process.env.SANDBOXED_TEST_STATE_DIR ?? "/var/lib/sandboxed-test";

export function policy(resources: Record<string, string | number>, extra = ""): ResolvedPolicy {
  const dir = mkdtempSync(path.join(tmpdir(), "sbx-policy-"));
  const file = path.join(dir, "policy.yml");
  const fields = Object.entries(resources)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
  writeFileSync(
    file,
    `apiVersion: sandboxed/v1\nkind: Policy\nresources: { ${fields} }\nnetwork: { mode: none }\n${extra}`,
  );
  return loadPolicy(file, loadOptions()).policy;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new Error("integration tests boot real VMs and need root (cgroups, namespaces, uids)");
  }
}

export function hostMemAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync("/proc/meminfo", "utf8"));
  return Number(m?.[1]) * 1024;
}

export function hostProcessCount(): number {
  return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).length;
}

export function qemuPids(): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, "utf8").trim().startsWith("qemu-system");
      } catch {
        return false;
      }
    })
    .map(Number);
}
