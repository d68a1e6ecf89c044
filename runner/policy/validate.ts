/**
 * Schema checks: zod issues turned into findings with positions, plain-language messages and a fix
 * in the hint. Pure: takes a parsed SourceFile, returns findings.
 */
import type { z } from "zod";
import { API_VERSION, cidrRuleSchema, hostRuleSchema, policySchema } from "./schema.js";
import { closest } from "./suggest.js";
import { describeValue, expectedWords } from "./wording.js";
import type { Finding } from "./types.js";
import { describeUnit, parseUnit } from "./units.js";
import type { UnitKind } from "./units.js";
import { finding, locate } from "./yaml-source.js";
import type { PathSeg, SourceFile } from "./yaml-source.js";

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

const UNIT_OF_KEY: Readonly<Record<string, UnitKind>> = {
  memory: "size",
  disk: "size",
  egress: "bandwidth",
  ingress: "bandwidth",
  timeout: "duration",
};

/** Hints for values people bring from other tools (harden-runner's `block`, Docker's `none`). */
const VALUE_HINTS: Readonly<Record<string, string>> = {
  block: "allowlist",
  "egress-policy": "network.mode",
  enforce: "allowlist",
  gvisor: "runsc",
  sysbox: "sysbox-runc",
  firecracker: "vm",
  qemu: "vm",
  docker: "container",
};

export function validateSchema(source: SourceFile): Finding[] {
  const data = source.data;
  if (data === null || data === undefined || typeof data !== "object" || Array.isArray(data)) {
    const got = data === null || data === undefined ? "an empty file" : describeValue(data);
    return [
      finding(locate(source, []), "schema", `a policy must be a mapping of keys; found ${got}`, {
        hint: `start the file with:\napiVersion: ${API_VERSION}\nkind: Policy`,
      }),
    ];
  }
  const result = policySchema.safeParse(data);
  if (result.success) return [];
  const out: Finding[] = [];
  for (const issue of result.error.issues) out.push(...toFindings(source, issue, [], data));
  return out;
}

function toFindings(
  source: SourceFile,
  issue: Issue,
  prefix: readonly PathSeg[],
  root: unknown,
): Finding[] {
  const path = [...prefix, ...(issue.path as PathSeg[])];
  const name = dotted(path);
  const value = valueAt(root, path);
  const leaf = path[path.length - 1];
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => unknownKey(source, [...path, key]));
    case "invalid_union": {
      // Allow entries: pick the branch the author meant by the shape they wrote.
      const schema = pickAllowBranch(value);
      if (!schema) {
        return [
          finding(locate(source, path), "schema", `${name} must be a host name or a mapping`, {
            hint: "write - example.com, - { host: example.com, ports: [443] } or - { cidr: 10.0.0.0/8, ports: [5432] }",
          }),
        ];
      }
      const sub = schema.safeParse(value);
      if (sub.success) return [];
      return sub.error.issues.flatMap((i) => toFindings(source, i, path, root));
    }
    case "invalid_value":
    case "invalid_type": {
      // zod 4 reports a missing literal or enum key (apiVersion, kind) as invalid_value.
      if (value === undefined) {
        const examples: Record<string, string> = {
          apiVersion: API_VERSION,
          kind: "Policy",
          host: "example.com",
          ports: "[443]",
        };
        const example = examples[String(leaf)] ?? "…";
        return [
          finding(locate(source, path.slice(0, -1)), "schema", `missing required key ${name}`, {
            hint: `add ${String(leaf)}: ${example}`,
          }),
        ];
      }
      if (issue.code === "invalid_value") return invalidValue(source, issue, path, value);
      const unit = typeof leaf === "string" ? UNIT_OF_KEY[leaf] : undefined;
      if (unit && typeof value === "number") {
        const parsed = parseUnit(unit, String(value));
        return [
          finding(locate(source, path), "invalid-unit", `${name} is ${value} with no unit`, {
            hint: parsed.ok ? undefined : parsed.hint,
          }),
        ];
      }
      const expected = issue.expected;
      let hint = `write ${name} as ${expectedWords(expected)}`;
      if (expected === "number" && typeof value === "string" && /^[0-9]+$/.test(value)) {
        hint = `write ${String(leaf)}: ${value} without quotes`;
      } else if (expected === "array" && typeof value === "string") {
        hint = `write ${String(leaf)}: [${value}]`;
      } else if (expected === "int" && typeof value === "number") {
        hint = `write ${String(leaf)}: ${Math.max(1, Math.round(value))}`;
      } else if (expected === "boolean" && typeof value === "string") {
        hint = `write ${String(leaf)}: ${/^(yes|on|y|1)$/i.test(value) ? "true" : "false"}`;
      }
      return [
        finding(
          locate(source, path),
          "schema",
          `${name} must be ${expectedWords(expected)}, got ${describeValue(value)}`,
          {
            hint,
          },
        ),
      ];
    }
    case "invalid_format": {
      const unit = typeof leaf === "string" ? UNIT_OF_KEY[leaf] : undefined;
      if (unit) {
        const parsed = parseUnit(unit, String(value));
        return [
          finding(
            locate(source, path),
            "invalid-unit",
            `${name} is ${describeValue(value)}: not ${describeUnit(unit)}`,
            { hint: parsed.ok ? undefined : parsed.hint },
          ),
        ];
      }
      return [finding(locate(source, path), "schema", `${name}: ${issue.message}`)];
    }
    case "too_small":
    case "too_big": {
      if (issue.origin === "array") {
        return [
          finding(locate(source, path), "schema", `${name} is empty`, {
            hint: `list at least one value, or remove ${String(leaf)} to use the default`,
          }),
        ];
      }
      const bound =
        issue.code === "too_small" ? `at least ${issue.minimum}` : `at most ${issue.maximum}`;
      const fixed = issue.code === "too_small" ? issue.minimum : issue.maximum;
      // A port list item: the nearest bound (1 or 65535) is never the port the author meant.
      const hint =
        typeof leaf === "number" && path[path.length - 2] === "ports"
          ? "write the TCP port the service listens on, from 1 to 65535"
          : `write ${String(typeof leaf === "number" ? "" : `${leaf}: `)}${String(fixed)}`;
      return [
        finding(
          locate(source, path),
          "out-of-range",
          `${name} is ${describeValue(value)}; it must be ${bound}`,
          {
            hint,
          },
        ),
      ];
    }
    case "not_multiple_of":
      return [
        finding(
          locate(source, path),
          "schema",
          `${name} must be a whole number, got ${describeValue(value)}`,
          {
            hint: `write ${String(leaf)}: ${Math.ceil(Number(value))}`,
          },
        ),
      ];
    default:
      return [finding(locate(source, path), "schema", `${name}: ${issue.message}`)];
  }
}

function invalidValue(
  source: SourceFile,
  issue: Extract<Issue, { code: "invalid_value" }>,
  path: readonly PathSeg[],
  value: unknown,
): Finding[] {
  const leaf = path[path.length - 1];
  const allowed = issue.values.map(String);
  const got = String(value);
  const suggestion = VALUE_HINTS[got.toLowerCase()] ?? closest(got, allowed);
  const fix =
    leaf === "apiVersion"
      ? `write apiVersion: ${API_VERSION}`
      : suggestion && allowed.includes(suggestion)
        ? `did you mean ${suggestion}?`
        : `use one of: ${allowed.join(", ")}`;
  return [
    finding(
      locate(source, path),
      "schema",
      `${dotted(path)} must be one of ${allowed.join(", ")}; got ${describeValue(value)}`,
      {
        hint: fix,
      },
    ),
  ];
}

function unknownKey(source: SourceFile, path: readonly PathSeg[]): Finding {
  const key = String(path[path.length - 1]);
  const parent = path.slice(0, -1);
  const known = knownKeysAt(policySchema as AnySchema, parent, valueAt(source.data, parent));
  const where = parent.length === 0 ? "at the top level" : `in ${dotted(parent)}`;
  let hint: string;
  const near = closest(key, known);
  const home = homeOf(key);
  if (parent.length === 0 && key === "version") hint = `write apiVersion: ${API_VERSION}`;
  else if (near) hint = `did you mean ${near}?`;
  else if (home && dotted(parent) !== home) hint = `${key} belongs under ${home}`;
  else hint = `valid keys ${where}: ${known.join(", ")}`;
  return finding(locate(source, path, "key"), "unknown-key", `unknown key ${key} ${where}`, {
    hint,
  });
}

/** Section a key lives in anywhere in the format, for "cpus belongs under resources". */
function homeOf(key: string): string | undefined {
  const sections: Record<string, readonly string[]> = {
    isolation: ["backend", "runtime", "sudo"],
    resources: ["cpus", "memory", "disk", "pids", "timeout"],
    network: ["mode", "bandwidth", "allow"],
    "network.bandwidth": ["egress", "ingress"],
  };
  return Object.keys(sections).find((s) => sections[s]!.includes(key));
}

function pickAllowBranch(
  value: unknown,
): typeof cidrRuleSchema | typeof hostRuleSchema | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  return "cidr" in value ? cidrRuleSchema : hostRuleSchema;
}

/** Keys an object schema accepts at `path`, looking through optional, array and union. */
function knownKeysAt(schema: AnySchema, path: readonly PathSeg[], value: unknown): string[] {
  let current: AnySchema | undefined = schema;
  const step = (s: AnySchema): AnySchema => {
    const def = s._zod.def as unknown as { type: string; innerType?: AnySchema };
    return def.type === "optional" && def.innerType ? step(def.innerType) : s;
  };
  for (const seg of path) {
    if (!current) return [];
    const def = step(current)._zod.def as unknown as {
      type: string;
      shape?: Record<string, AnySchema>;
      element?: AnySchema;
    };
    if (def.type === "object" && typeof seg === "string") current = def.shape?.[seg];
    else if (def.type === "array") current = def.element;
    else return [];
  }
  if (!current) return [];
  let def = step(current)._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
    options?: AnySchema[];
  };
  if (def.type === "union") {
    const branch = pickAllowBranch(value);
    if (!branch) return [];
    def = (branch as AnySchema)._zod.def as unknown as typeof def;
  }
  return def.type === "object" ? Object.keys(def.shape ?? {}) : [];
}

export function valueAt(root: unknown, path: readonly PathSeg[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

export function dotted(path: readonly PathSeg[]): string {
  return path.reduce<string>(
    (acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg),
    "",
  );
}
