/**
 * Schema issues turned into findings: a position, a plain message naming the key and the value,
 * and the fix in the hint (STYLE H5, H8). Values of keys that may hold secrets are never repeated.
 */
import type { z } from "zod";
import { API_VERSION, CONFIG_KIND, serviceConfigSchema } from "./schema.js";
import { closest, describeValue, dotted, expectedWords, valueAt } from "../policy/index.js";
import type { ConfigFinding } from "./types.js";
import { CHECKS } from "./values.js";
import type { CheckName } from "./values.js";
import { locate } from "./yaml-source.js";
import type { ConfigSource, PathSeg } from "./yaml-source.js";

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

/** What to add for a missing required key. */
const EXAMPLES: Readonly<Record<string, string>> = {
  apiVersion: `apiVersion: ${API_VERSION}`,
  kind: `kind: ${CONFIG_KIND}`,
  github: "github: { app: { id: 12345, privateKeyFile: /etc/sandboxed/app.pem } }",
  scope: "scope: { organization: octo-org }",
  labelSets: "labelSets: [{ name: default, labels: [sandboxed], policy: policies/default.yml }]",
  name: "name: default",
  labels: "labels: [sandboxed]",
  policy: "policy: policies/default.yml",
  id: "id: 12345 (the App's id, on its settings page)",
  privateKeyFile: "privateKeyFile: /etc/sandboxed/app.pem",
  file: "file: /etc/sandboxed/token",
  listen: "listen: 127.0.0.1:8080",
  secretFile: "secretFile: /etc/sandboxed/webhook-secret",
};

/** Where a misplaced key belongs. */
const HOMES: Readonly<Record<string, string>> = {
  apiUrl: "github",
  app: "github",
  token: "github",
  repositories: "scope",
  organization: "scope",
  sandboxes: "capacity",
  interval: "reconcile",
  retention: "logs",
  secretFile: "webhook",
};

/** Values people bring from elsewhere. */
const VALUE_HINTS: Readonly<Record<string, string>> = {
  docker: "container",
  firecracker: "vm",
  qemu: "vm",
  microvm: "vm",
};

export function schemaFindings(source: ConfigSource): ConfigFinding[] {
  const result = serviceConfigSchema.safeParse(source.data);
  if (result.success) return [];
  return result.error.issues.flatMap((issue) => toFindings(source, issue));
}

function toFindings(source: ConfigSource, issue: Issue): ConfigFinding[] {
  const path = issue.path as PathSeg[];
  const name = dotted(path);
  const leaf = String(path[path.length - 1] ?? "");
  const value = valueAt(source.data, path);
  const at = (message: string, hint?: string, on: "key" | "value" = "value"): ConfigFinding => ({
    ...locate(source, path, on),
    message,
    ...(hint === undefined ? {} : { hint }),
  });
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => unknownKey(source, [...path, key]));
    case "invalid_value":
    case "invalid_type": {
      if (value === undefined) {
        return [
          {
            ...locate(source, path.slice(0, -1)),
            message: `missing required key ${name}`,
            hint: `add ${EXAMPLES[leaf] ?? `${leaf}: …`}`,
          },
        ];
      }
      if (issue.code === "invalid_value") {
        const allowed = issue.values.map(String);
        const got = String(value);
        const near = VALUE_HINTS[got.toLowerCase()] ?? closest(got, allowed);
        let hint = near ? `did you mean ${near}?` : `write ${leaf}: ${allowed.join(" or ")}`;
        if (leaf === "apiVersion") hint = `write apiVersion: ${API_VERSION}`;
        if (leaf === "kind" && (got === "Policy" || got === "Ceilings")) {
          hint = `write kind: ${CONFIG_KIND}; policies are files of their own, named in labelSets[].policy`;
        }
        return [at(`${name} must be ${allowed.join(" or ")}; got ${describeValue(value)}`, hint)];
      }
      return [at(...wrongType(name, leaf, issue.expected, value))];
    }
    case "custom": {
      const check = (issue.params as { check?: CheckName } | undefined)?.check;
      const result = check && typeof value === "string" ? CHECKS[check](value) : undefined;
      if (!result || result.ok) return [at(`${name}: ${issue.message}`)];
      return [
        result.redact
          ? at(`${name} ${result.problem}`, result.hint)
          : at(`${name} is ${describeValue(value)}: ${result.problem}`, result.hint),
      ];
    }
    case "too_small":
    case "too_big": {
      if (issue.origin === "array") return [at(`${name} is empty`, emptyListHint(leaf))];
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const word = issue.code === "too_small" ? "at least" : "at most";
      return [
        at(
          `${name} is ${describeValue(value)}; it must be ${word} ${bound}`,
          `write ${leaf}: ${bound}`,
        ),
      ];
    }
    default:
      return [at(`${name}: ${issue.message}`)];
  }
}

function wrongType(name: string, leaf: string, expected: string, value: unknown): [string, string] {
  if (name === "github.token" && typeof value === "string") {
    // The value is a token: say so without repeating it.
    return [
      "github.token must be { file: PATH }: an inline token is refused",
      "put the token in a file with mode 600 and write token: { file: /etc/sandboxed/token }",
    ];
  }
  if (expected === "string" && typeof value === "number") {
    if (leaf === "listen") {
      return [
        `${name} is ${value}: not host:port`,
        `write ${leaf}: 127.0.0.1:${value} for this host only, or 0.0.0.0:${value} for all interfaces`,
      ];
    }
    if (["interval", "idleTimeout", "retention"].includes(leaf)) {
      const hint = CHECKS.duration(String(value));
      return [`${name} is ${value} with no unit`, hint.ok ? "" : hint.hint];
    }
    if (leaf === "memory") {
      const hint = CHECKS.size(String(value));
      return [`${name} is ${value} with no unit`, hint.ok ? "" : hint.hint];
    }
  }
  if (expected === "array" && (typeof value === "string" || typeof value === "number")) {
    return [
      `${name} must be a list, got ${describeValue(value)}`,
      `write ${leaf}: [${String(value)}]`,
    ];
  }
  if (expected === "number" && typeof value === "string" && /^[0-9]+$/.test(value)) {
    return [`${name} must be a number, got ${describeValue(value)}`, `write ${leaf}: ${value}`];
  }
  if (expected === "int" && typeof value === "number") {
    return [`${name} must be a whole number, got ${value}`, `write ${leaf}: ${Math.round(value)}`];
  }
  if (expected === "boolean" && typeof value === "string") {
    const yes = /^(yes|on|y|1)$/i.test(value);
    return [`${name} must be true or false, got ${describeValue(value)}`, `write ${leaf}: ${yes}`];
  }
  return [
    `${name} must be ${expectedWords(expected)}, got ${describeValue(value)}`,
    `write ${name} as ${expectedWords(expected)}`,
  ];
}

function emptyListHint(leaf: string): string {
  switch (leaf) {
    case "labelSets":
      return `add one: - { name: default, labels: [sandboxed], policy: policies/default.yml }`;
    case "labels":
      return "list the runs-on labels these runners take, e.g. [sandboxed]";
    case "repositories":
      return "list owner/name entries, or use scope.organization";
    default:
      return `list at least one value, or remove ${leaf}`;
  }
}

function unknownKey(source: ConfigSource, path: readonly PathSeg[]): ConfigFinding {
  const key = String(path[path.length - 1]);
  const parent = path.slice(0, -1);
  const known = knownKeysAt(serviceConfigSchema as AnySchema, parent);
  const where = parent.length === 0 ? "at the top level" : `in ${dotted(parent)}`;
  const near = closest(key, known);
  const home = HOMES[key];
  let hint: string;
  if (parent.length === 0 && key === "version") hint = `write apiVersion: ${API_VERSION}`;
  else if (near) hint = `did you mean ${near}?`;
  else if (home && dotted(parent) !== home) hint = `${key} belongs under ${home}`;
  else hint = `valid keys ${where}: ${known.join(", ")}`;
  return { ...locate(source, path, "key"), message: `unknown key ${key} ${where}`, hint };
}

/** Keys an object schema accepts at `path`, looking through optional and array. */
function knownKeysAt(schema: AnySchema, path: readonly PathSeg[]): string[] {
  type Def = {
    type: string;
    innerType?: AnySchema;
    shape?: Record<string, AnySchema>;
    element?: AnySchema;
  };
  const unwrap = (s: AnySchema): Def => {
    const def = s._zod.def as unknown as Def;
    return def.type === "optional" && def.innerType ? unwrap(def.innerType) : def;
  };
  let current: AnySchema | undefined = schema;
  for (const seg of path) {
    if (!current) return [];
    const def = unwrap(current);
    if (def.type === "object" && typeof seg === "string") current = def.shape?.[seg];
    else if (def.type === "array") current = def.element;
    else return [];
  }
  const def = current ? unwrap(current) : undefined;
  return def?.type === "object" ? Object.keys(def.shape ?? {}) : [];
}
