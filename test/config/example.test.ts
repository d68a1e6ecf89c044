// The shipped example must load as is, and name policy files that exist and load.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadOptions } from "../../runner/cli/policy-files.js";
import { loadServiceConfig } from "../../runner/config/index.js";
import { loadCeilings, loadPolicy } from "../../runner/policy/index.js";

const EXAMPLE = path.resolve("examples/serve/sandboxed.yml");

describe("examples/serve/sandboxed.yml", () => {
  it("loads clean", () => {
    const config = loadServiceConfig(EXAMPLE, { hostCpus: 32 });
    expect(config.github.auth.kind).toBe("app");
    expect(config.scope).toEqual({ organization: "octo-org" });
    expect(config.labelSets.map((s) => [s.name, s.labels])).toEqual([
      ["default", ["sandboxed"]],
      ["large", ["sandboxed", "large"]],
    ]);
  });

  it("names a ceilings file and policies that load within it", () => {
    const config = loadServiceConfig(EXAMPLE, { hostCpus: 32 });
    const options = loadOptions();
    const ceilings = loadCeilings(config.ceilings!, options);
    const [small, large] = config.labelSets.map(
      (set) => loadPolicy(set.policy, { ...options, ceilings }).policy,
    );
    expect(small!.files.at(-1)).toBe(path.resolve("policies/default.yml"));
    expect(large!.resources.cpus).toBe(8);
    expect(large!.resources.cpus).toBeGreaterThan(small!.resources.cpus);
  });
});

describe("docs/configuration.md", () => {
  it("docs example: the minimal config loads, with the defaults it promises", () => {
    const doc = readFileSync("docs/configuration.md", "utf8");
    const minimal = /## A minimal config[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(minimal).toBeDefined();
    const config = loadServiceConfig("/etc/sandboxed/sandboxed.yml", {
      readFile: () => minimal,
      hostCpus: 8,
    });
    expect(config.webhook).toBeUndefined();
    expect(config.reconcile.intervalMs).toBe(60_000);
    expect(config.capacity.sandboxes).toBe(4);
    expect(config.stateDir).toBe("/var/lib/sandboxed");
    expect(config.logs).toEqual({ dir: "/var/log/sandboxed", retentionMs: 14 * 86_400_000 });
  });
});
