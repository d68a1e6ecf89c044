/** Merge rules (runner/policy/merge.ts): extends order, later wins, allow concatenation, defaults. */
import { describe, expect, it } from "vitest";
import { DEFAULTS, lintPolicyFile, loadCeilings, loadPolicy } from "../../runner/policy/index.js";
import type { LoadOptions, ResolvedPolicy } from "../../runner/policy/index.js";

const HEAD = "apiVersion: sandboxed/v1\nkind: Policy\n";
const GiB = 2 ** 30;

/** An in-memory disk: /repo for the policy and its files, /presets for presets. */
function fs(files: Record<string, string>): LoadOptions {
  const disk = new Map(Object.entries(files));
  return {
    readFile: (file) => disk.get(file),
    presetDir: "/presets",
    presetNames: [...disk.keys()]
      .filter((f) => f.startsWith("/presets/"))
      .map((f) => f.slice("/presets/".length, -".yml".length))
      .sort(),
  };
}

function load(files: Record<string, string>, ceilings?: string): ResolvedPolicy {
  const options = fs({ ...files, ...(ceilings ? { "/repo/ceilings.yml": ceilings } : {}) });
  const bound = ceilings ? loadCeilings("/repo/ceilings.yml", options) : undefined;
  return loadPolicy("/repo/policy.yml", { ...options, ceilings: bound }).policy;
}

const hosts = (p: ResolvedPolicy): string[] =>
  p.network.allow.map((r) => (r.kind === "host" ? `${r.wildcard ? "*." : ""}${r.host}` : r.cidr));

describe("merge", () => {
  it.each<{ name: string; files: Record<string, string>; order: string[]; allow: string[] }>([
    // --- extends order: depth first, parents before the file extending them, entry last ---
    {
      name: "files apply in extends order, then the entry file",
      files: {
        "/repo/policy.yml": `${HEAD}extends: [./a.yml, ./b.yml]\n`,
        "/repo/a.yml": `${HEAD}network: { allow: [a.example] }\n`,
        "/repo/b.yml": `${HEAD}network: { allow: [b.example] }\n`,
      },
      order: ["/repo/a.yml", "/repo/b.yml", "/repo/policy.yml"],
      allow: ["a.example", "b.example"],
    },
    {
      name: "a grandparent applies before its child",
      files: {
        "/repo/policy.yml": `${HEAD}extends: [./b.yml]\nnetwork: { allow: [c.example] }\n`,
        "/repo/b.yml": `${HEAD}extends: [./a.yml]\nnetwork: { allow: [b.example] }\n`,
        "/repo/a.yml": `${HEAD}network: { allow: [a.example] }\n`,
      },
      order: ["/repo/a.yml", "/repo/b.yml", "/repo/policy.yml"],
      allow: ["a.example", "b.example", "c.example"],
    },
    {
      name: "diamond: a file reached twice applies once, at its first place",
      files: {
        "/repo/policy.yml": `${HEAD}extends: [./left.yml, ./right.yml]\n`,
        "/repo/left.yml": `${HEAD}extends: [./base.yml]\nnetwork: { allow: [left.example] }\n`,
        "/repo/right.yml": `${HEAD}extends: [./base.yml]\nnetwork: { allow: [right.example] }\n`,
        "/repo/base.yml": `${HEAD}network: { allow: [base.example] }\n`,
      },
      order: ["/repo/base.yml", "/repo/left.yml", "/repo/right.yml", "/repo/policy.yml"],
      allow: ["base.example", "left.example", "right.example"],
    },
    {
      name: "presets and files mix in one list",
      files: {
        "/repo/policy.yml": `${HEAD}extends: [npm, ./a.yml]\nnetwork: { allow: ["*.example.org"] }\n`,
        "/presets/npm.yml": `${HEAD}network: { allow: [registry.npmjs.org] }\n`,
        "/repo/a.yml": `${HEAD}network: { allow: [a.example] }\n`,
      },
      order: ["/presets/npm.yml", "/repo/a.yml", "/repo/policy.yml"],
      allow: ["registry.npmjs.org", "a.example", "*.example.org"],
    },
  ])("$name", ({ files, order, allow }) => {
    const policy = load(files);
    expect(policy.files).toEqual(order);
    expect(hosts(policy)).toEqual(allow);
  });

  it.each([
    // --- later file wins for scalars; unset fields do not reset earlier ones ---
    {
      name: "the entry file overrides what it extends",
      base: "resources: { cpus: 8, memory: 16GiB }\n",
      entry: "resources: { cpus: 2 }\n",
      expect: { cpus: 2, memoryBytes: 16 * GiB },
    },
    {
      name: "an unset field keeps the extended value",
      base: "resources: { memory: 16GiB }\n",
      entry: "network: { mode: none }\n",
      expect: { cpus: DEFAULTS["resources.cpus"], memoryBytes: 16 * GiB },
    },
    {
      name: "neither file sets it: the default",
      base: "description: base\n",
      entry: "description: entry\n",
      expect: { cpus: DEFAULTS["resources.cpus"], memoryBytes: 4 * GiB },
    },
  ])("$name", ({ base, entry, expect: resources }) => {
    const policy = load({
      "/repo/policy.yml": `${HEAD}extends: [./base.yml]\n${entry}`,
      "/repo/base.yml": `${HEAD}${base}`,
    });
    expect(policy.resources).toMatchObject(resources);
  });

  it("fills every unset field from DEFAULTS, in base units", () => {
    const policy = load({ "/repo/policy.yml": HEAD });
    expect(policy).toMatchObject({
      enforce: false,
      isolation: { backend: "vm", runtime: "auto", sudo: true },
      resources: {
        cpus: 2,
        memoryBytes: 4 * GiB,
        diskBytes: 20 * GiB,
        pids: 4096,
        timeoutSeconds: 6 * 3600,
      },
      network: { mode: "allowlist", bandwidth: { egressBps: 100e6, ingressBps: 1e9 }, allow: [] },
    });
    expect(policy.origins["resources.cpus"]?.file).toBe("(default)");
  });

  it("gives host entries the default ports 80 and 443, sorted and deduplicated", () => {
    const policy = load({
      "/repo/policy.yml": `${HEAD}network:\n  allow:\n    - a.example\n    - { host: b.example, ports: [443, 22, 443] }\n`,
    });
    expect(policy.network.allow.map((r) => r.ports)).toEqual([
      [80, 443],
      [22, 443],
    ]);
  });

  it.each([
    // --- defaults lowered to the ceilings; values the policy sets are never lowered ---
    {
      name: "numeric defaults drop to a lower ceiling",
      ceilings:
        "resources: { cpus: 1, memory: 2GiB, timeout: 1h }\nnetwork: { bandwidth: { egress: 10Mbit } }\n",
      expect: {
        cpus: 1,
        memoryBytes: 2 * GiB,
        timeoutSeconds: 3600,
        egressBps: 10e6,
        sudo: true,
        mode: "allowlist",
      },
    },
    {
      name: "a higher ceiling leaves the default",
      ceilings: "resources: { cpus: 64, memory: 64GiB, timeout: 24h }\n",
      expect: {
        cpus: 2,
        memoryBytes: 4 * GiB,
        timeoutSeconds: 6 * 3600,
        egressBps: 100e6,
        sudo: true,
        mode: "allowlist",
      },
    },
    {
      name: "sudo false and mode none in the ceilings win over the defaults",
      ceilings: "isolation: { sudo: false }\nnetwork: { mode: none }\n",
      expect: {
        cpus: 2,
        memoryBytes: 4 * GiB,
        timeoutSeconds: 6 * 3600,
        egressBps: 100e6,
        sudo: false,
        mode: "none",
      },
    },
  ])("$name", ({ ceilings, expect: want }) => {
    const p = load(
      { "/repo/policy.yml": HEAD },
      `apiVersion: sandboxed/v1\nkind: Ceilings\n${ceilings}`,
    );
    expect({
      cpus: p.resources.cpus,
      memoryBytes: p.resources.memoryBytes,
      timeoutSeconds: p.resources.timeoutSeconds,
      egressBps: p.network.bandwidth.egressBps,
      sudo: p.isolation.sudo,
      mode: p.network.mode,
    }).toEqual(want);
  });

  it("reports a value over the ceilings instead of lowering it", () => {
    const options = fs({
      "/repo/policy.yml": `${HEAD}resources: { cpus: 8 }\n`,
      "/repo/ceilings.yml": "apiVersion: sandboxed/v1\nkind: Ceilings\nresources: { cpus: 4 }\n",
    });
    const ceilings = loadCeilings("/repo/ceilings.yml", options);
    const result = lintPolicyFile("/repo/policy.yml", { ...options, ceilings });
    expect(result.resolved).toBeUndefined();
    expect(result.findings.map((f) => [f.rule, f.line, f.col])).toEqual([
      ["exceeds-ceiling", 3, 20],
    ]);
  });

  it("merges Ceilings files the same way, with no defaults", () => {
    const options = fs({
      "/repo/ceilings.yml":
        "apiVersion: sandboxed/v1\nkind: Ceilings\nextends: [./base.yml]\nresources: { cpus: 4 }\n",
      "/repo/base.yml":
        "apiVersion: sandboxed/v1\nkind: Ceilings\nresources: { cpus: 16, memory: 8GiB }\n",
    });
    const c = loadCeilings("/repo/ceilings.yml", options);
    expect(c.resources).toEqual({ cpus: 4, memoryBytes: 8 * GiB });
    expect(c.network.allow).toBeUndefined();
  });
});
