/**
 * GitHub's own OpenAPI description (@octokit/openapi), used by the emulator twice: its examples
 * are the templates of every REST object it returns, and every response it sends is checked
 * against the operation's schema with ajv, so a test that passes against the emulator passes
 * against shapes GitHub documents.
 *
 * We read `api.github.com.json` (13 MB, $refs kept) rather than the `.deref.json` twin (73 MB,
 * 1.8 s to parse, ~190 MB of heap): ajv resolves the $refs itself, lazily, per operation.
 * OpenAPI 3.0's `nullable: true` is not JSON Schema; it is rewritten once at load (see
 * fixNullable) so ajv sees plain draft-07.
 */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import type { ErrorObject, ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS with `exports.default`; NodeNext sees the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

type Json = Record<string, unknown>;

export interface ResponseToCheck {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface OpenApi {
  /** A deep copy of `components.examples[name].value`. */
  example<T = Json>(name: string): T;
  /** Problems with a response (empty = it matches GitHub's description). */
  checkResponse(response: ResponseToCheck): string[];
  /** GitHub's 422 message for a request body its schema rejects, or undefined when it fits. */
  checkRequestBody(method: string, route: string, body: unknown): string | undefined;
  /** Problems with a `workflow_job` webhook payload. */
  checkWebhook(action: string, payload: unknown): string[];
}

// One parse per process, shared by every emulator in it: the file takes ~0.7 s to load and
// rewrite, and nothing mutates it afterwards (examples are handed out as copies).
let loading: Promise<OpenApi> | undefined;

export function loadOpenApi(): Promise<OpenApi> {
  loading ??= load();
  return loading;
}

async function load(): Promise<OpenApi> {
  const require = createRequire(import.meta.url);
  const file = require.resolve("@octokit/openapi/generated/api.github.com.json");
  const spec = JSON.parse(await readFile(file, "utf8")) as Json;
  fixNullable(spec);
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateSchema: false });
  addFormats(ajv);
  ajv.addSchema(spec, "openapi");
  const compiled = new Map<string, ValidateFunction>();
  const validator = (pointer: string[]): ValidateFunction => {
    const ref = `openapi#/${pointer.map(escapePointer).join("/")}`;
    let v = compiled.get(ref);
    if (v === undefined) {
      v = ajv.compile({ $ref: ref });
      compiled.set(ref, v);
    }
    return v;
  };
  const at = (pointer: string[]): unknown =>
    pointer.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], spec);
  /** Follows one `$ref` at an operation-level object; returns its value and pointer. */
  const follow = (pointer: string[]): { node: Json | undefined; pointer: string[] } => {
    const node = at(pointer) as Json | undefined;
    const ref = node?.$ref;
    if (typeof ref !== "string") return { node, pointer };
    const target = ref.replace(/^#\//, "").split("/").map(unescapePointer);
    return { node: at(target) as Json | undefined, pointer: target };
  };
  const problemsOf = (v: ValidateFunction, value: unknown, where: string): string[] =>
    v(value) ? [] : (v.errors ?? []).slice(0, 10).map((e) => `${where}${describe(e)}`);

  const basicError = validator(["components", "schemas", "basic-error"]);

  return {
    example: <T>(name: string) => {
      const node = at(["components", "examples", name, "value"]);
      if (node === undefined) throw new Error(`@octokit/openapi has no example "${name}"`);
      return structuredClone(node) as T;
    },

    checkResponse: ({ method, route, status, headers, body }) => {
      const opPointer = ["paths", route, method.toLowerCase()];
      if (at(opPointer) === undefined) return [`${method} ${route} is not a GitHub operation`];
      const problems: string[] = [];
      const declared = at([...opPointer, "responses", String(status)]) !== undefined;
      const parsed = parseBody(body, headers["content-type"], problems);
      if (!declared) {
        // GitHub's description leaves out most 401/403/404/5xx replies the API really sends;
        // those must still carry GitHub's error shape.
        if (status < 400) return [`status ${status} is not documented for ${method} ${route}`];
        return [...problems, ...problemsOf(basicError, parsed, "body")];
      }
      const response = follow([...opPointer, "responses", String(status)]);
      const content = response.node?.content as Json | undefined;
      if (content === undefined) {
        if (body !== "") problems.push(`status ${status} has no body in GitHub's description`);
      } else if (content["application/json"] !== undefined) {
        const schema = [...response.pointer, "content", "application/json", "schema"];
        if (at(schema) !== undefined)
          problems.push(...problemsOf(validator(schema), parsed, "body"));
      } else {
        problems.push(`no application/json body is documented for status ${status}`);
      }
      for (const [name, header] of Object.entries((response.node?.headers ?? {}) as Json)) {
        const value = headers[name.toLowerCase()];
        const h = (header as Json).$ref === undefined ? (header as Json) : resolveRef(header);
        if (value === undefined) {
          if (h?.required === true) problems.push(`header ${name} is required`);
          continue;
        }
        const type = (h?.schema as Json | undefined)?.type;
        if (type === "integer" && !/^-?\d+$/.test(value)) problems.push(`header ${name} not int`);
      }
      return problems;

      function resolveRef(node: unknown): Json | undefined {
        const ref = (node as Json).$ref as string;
        return at(ref.replace(/^#\//, "").split("/").map(unescapePointer)) as Json | undefined;
      }
    },

    checkRequestBody: (method, route, body) => {
      const request = follow(["paths", route, method.toLowerCase(), "requestBody"]);
      if (request.node === undefined) return undefined;
      const schema = [...request.pointer, "content", "application/json", "schema"];
      if (at(schema) === undefined) return undefined;
      if (body === undefined) {
        return request.node.required === true
          ? "Invalid request.\n\nA JSON body is required."
          : undefined;
      }
      const v = validator(schema);
      if (v(body)) return undefined;
      return `Invalid request.\n\n${(v.errors ?? []).map(githubMessage).join("\n")}`;
    },

    checkWebhook: (action, payload) => {
      const name = `webhook-workflow-job-${action.replace(/_/g, "-")}`;
      return problemsOf(validator(["components", "schemas", name]), payload, "payload");
    },
  };
}

function parseBody(body: string, contentType: string | undefined, problems: string[]): unknown {
  if (body === "") return undefined;
  if (!/^application\/json; charset=utf-8$/.test(contentType ?? "")) {
    problems.push(`content-type is "${contentType}", GitHub sends application/json; charset=utf-8`);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    problems.push("body is not JSON");
    return undefined;
  }
}

function describe(e: ErrorObject): string {
  const extra =
    e.keyword === "additionalProperties" || e.keyword === "enum"
      ? ` ${JSON.stringify(e.params)}`
      : "";
  return `${e.instancePath} ${e.message ?? e.keyword}${extra}`;
}

/** Phrases an ajv error as GitHub's request validation does (`"name" wasn't supplied.`). */
function githubMessage(e: ErrorObject): string {
  const where = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
  if (e.keyword === "required") {
    return `"${(e.params as { missingProperty: string }).missingProperty}" wasn't supplied.`;
  }
  if (e.keyword === "type") {
    return `For '${where}', value is not ${(e.params as { type: string }).type === "integer" ? "an integer" : `a ${(e.params as { type: string }).type}`}.`;
  }
  return `For '${where || "body"}', ${e.message ?? e.keyword}.`;
}

/**
 * OpenAPI 3.0 `nullable: true` → JSON Schema: `type: [t, "null"]` (and `null` in `enum`), or,
 * beside `allOf`/`anyOf`/`$ref` with no `type`, `anyOf: [{type: null}, <the schema>]`.
 */
function fixNullable(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) fixNullable(item);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const o = node as Json;
  for (const value of Object.values(o)) fixNullable(value);
  if (o.nullable !== true) return;
  delete o.nullable;
  if (typeof o.type === "string") {
    o.type = [o.type, "null"];
    if (Array.isArray(o.enum) && !o.enum.includes(null)) o.enum = [...(o.enum as unknown[]), null];
    return;
  }
  const rest = { ...o };
  for (const key of Object.keys(o)) delete o[key];
  o.anyOf = [{ type: "null" }, rest];
}

function escapePointer(segment: string): string {
  return encodeURIComponent(segment.replace(/~/g, "~0").replace(/\//g, "~1"));
}

function unescapePointer(segment: string): string {
  return decodeURIComponent(segment).replace(/~1/g, "/").replace(/~0/g, "~");
}
