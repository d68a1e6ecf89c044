/**
 * Property tests: whatever the input, lintPolicyFile returns findings (never throws), and every
 * finding has a known rule id, a 1-based position and a message. Three generators: arbitrary
 * YAML values, mutations of the shipped policies, and plausible policies built from the real keys.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { lintPolicyFile, RULES } from "../../runner/policy/index.js";
import type { LoadOptions } from "../../runner/policy/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PRESET_DIR = path.join(ROOT, "policies", "presets");
const SHIPPED = [
  ...readdirSync(PRESET_DIR).map((f) => path.join(PRESET_DIR, f)),
  path.join(ROOT, "policies", "default.yml"),
  path.join(ROOT, "policies", "examples", "sandbox-policy.yml"),
  path.join(ROOT, "policies", "examples", "ceilings.yml"),
].map((file) => readFileSync(file, "utf8"));
const PRESETS = readdirSync(PRESET_DIR).map((f) => f.replace(/\.yml$/, ""));
const RUNS = { numRuns: 300 };

function lintText(text: string, extra: Record<string, string> = {}): void {
  const disk = new Map<string, string>([["/fuzz/policy.yml", text], ...Object.entries(extra)]);
  const options: LoadOptions = {
    readFile: (file) =>
      disk.get(file) ?? (file.startsWith(PRESET_DIR) ? readFileSync(file, "utf8") : undefined),
    presetDir: PRESET_DIR,
    presetNames: PRESETS,
  };
  const result = lintPolicyFile("/fuzz/policy.yml", options);
  for (const f of result.findings) {
    expect(Object.keys(RULES)).toContain(f.rule);
    expect(f.line).toBeGreaterThanOrEqual(1);
    expect(f.col).toBeGreaterThanOrEqual(1);
    expect(f.message.length).toBeGreaterThan(0);
  }
}

// --- (a) any JSON-like value, as YAML ---
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }),
  ),
})).value;

// --- (b) mutations of shipped text ---
const NOISE = ":-[]{}*&!|>'\"#%@` \n\t".split("");
const mutation = fc.oneof(
  fc.record({ op: fc.constant("insert" as const), at: fc.nat(), ch: fc.constantFrom(...NOISE) }),
  fc.record({
    op: fc.constant("delete" as const),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ op: fc.constant("replace" as const), at: fc.nat(), ch: fc.constantFrom(...NOISE) }),
);

function mutate(
  text: string,
  edits: readonly { op: string; at: number; ch?: string; len?: number }[],
): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.op === "insert") out = out.slice(0, at) + e.ch + out.slice(at);
    else if (e.op === "delete") out = out.slice(0, at) + out.slice(at + (e.len ?? 1));
    else out = out.slice(0, at) + e.ch + out.slice(at + 1);
  }
  return out;
}

// --- (c) plausible policies from the real keys ---
const anyScalar = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 100000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const maybe = <T>(arb: fc.Arbitrary<T>) =>
  fc.option(fc.oneof(arb, anyScalar), { nil: undefined, freq: 3 });
const unitText = fc.oneof(
  fc.constantFrom(
    "4GiB",
    "4GB",
    "1.5GiB",
    "0GiB",
    "50Mbit",
    "50Mbps",
    "50MB/s",
    "90m",
    "1h30m",
    "1d",
    "0s",
    "90",
    "",
  ),
  fc
    .tuple(
      fc.integer({ min: 0, max: 5000 }),
      fc.constantFrom("KiB", "MiB", "GiB", "TiB", "Kbit", "Mbit", "Gbit", "h", "m", "s", "", "x"),
    )
    .map(([n, u]) => `${n}${u}`),
);
const hostText = fc.oneof(
  fc.constantFrom(
    "example.com",
    "*.example.com",
    "*",
    "*.com",
    "Example.COM",
    "example.com.",
    "bücher.example",
    "https://x.org/a",
    "x.org:443",
    "10.0.0.1",
    "::1",
    "[::1]",
    "a.*.b.com",
    "localhost",
    "-x.com",
  ),
  fc.domain(),
  fc.string({ maxLength: 20 }),
);
const cidrText = fc.oneof(
  fc.constantFrom(
    "0.0.0.0/0",
    "::/0",
    "10.0.0.0/8",
    "10.20.0.1/16",
    "169.254.169.254/32",
    "::ffff:169.254.169.254/128",
    "2002::/16",
    "64:ff9b::/96",
    "010.0.0.0/8",
    "127.0.0.0/8",
    "fd00:ec2::254/128",
    "1.2.3.4",
  ),
  fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 130 })).map(([a, p]) => `${a}/${p}`),
);
const ports = fc.array(fc.oneof(fc.integer({ min: -1, max: 70000 }), anyScalar), { maxLength: 3 });
const allowEntry = fc.oneof(
  hostText,
  fc.record({ host: hostText, ports }, { requiredKeys: ["host"] }),
  fc.record({ cidr: cidrText, ports }, { requiredKeys: [] }),
  anyScalar,
);
const policy = fc.record(
  {
    apiVersion: maybe(fc.constant("sandboxed/v1")),
    kind: maybe(fc.constantFrom("Policy", "Ceilings")),
    description: maybe(fc.string()),
    enforce: maybe(fc.boolean()),
    extends: maybe(
      fc.array(
        fc.oneof(
          fc.constantFrom(
            ...PRESETS,
            "github-action",
            "./base.yml",
            "./policy.yml",
            "./nope.yml",
            "../x.yml",
            "/abs.yml",
          ),
          fc.string({ maxLength: 8 }),
        ),
        { maxLength: 3 },
      ),
    ),
    isolation: maybe(
      fc.record(
        {
          backend: maybe(fc.constantFrom("vm", "container", "docker")),
          runtime: maybe(fc.constantFrom("auto", "runc", "runsc", "sysbox-runc", "gvisor")),
          sudo: maybe(fc.boolean()),
        },
        { requiredKeys: [] },
      ),
    ),
    resources: maybe(
      fc.record(
        {
          cpus: maybe(fc.integer({ min: -1, max: 300 })),
          memory: maybe(unitText),
          disk: maybe(unitText),
          pids: maybe(fc.integer({ min: 0, max: 5000000 })),
          timeout: maybe(unitText),
        },
        { requiredKeys: [] },
      ),
    ),
    network: maybe(
      fc.record(
        {
          mode: maybe(fc.constantFrom("none", "allowlist", "audit", "block")),
          bandwidth: maybe(
            fc.record({ egress: maybe(unitText), ingress: maybe(unitText) }, { requiredKeys: [] }),
          ),
          allow: maybe(fc.array(allowEntry, { maxLength: 6 })),
        },
        { requiredKeys: [] },
      ),
    ),
    // Keys the format does not have, at the top level and misspelt.
    cpus: maybe(fc.integer()),
    netwrok: maybe(fc.constant({ mode: "none" })),
  },
  { requiredKeys: [] },
);

const BASE =
  "apiVersion: sandboxed/v1\nkind: Policy\nextends: [./policy.yml]\nresources: { cpus: 4 }\n";

describe("lintPolicyFile never throws", () => {
  it("on any JSON-like value written as YAML", () => {
    fc.assert(
      fc.property(json, (value) => {
        lintText(stringify(value));
      }),
      RUNS,
    );
  });

  it("on random edits of the shipped policies", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHIPPED),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (text, edits) => {
          lintText(mutate(text, edits));
        },
      ),
      RUNS,
    );
  });

  it("on plausible policies built from the real keys", () => {
    fc.assert(
      fc.property(policy, (value) => {
        const clean = JSON.parse(JSON.stringify(value)) as unknown;
        lintText(stringify(clean), { "/fuzz/base.yml": BASE });
      }),
      RUNS,
    );
  });
});
