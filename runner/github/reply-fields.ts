/**
 * Typed reads of GitHub's JSON (REST replies and webhook bodies). A missing or mistyped field
 * becomes one SandboxedError naming the reply, the field's path and what was there, so a proxy's
 * HTML page or an API change reads as what it is, not as "cannot read properties of undefined".
 */
import { SandboxedError } from "../errors/index.js";
import { BAD_REPLY, describeValue, WEBHOOK_PAYLOAD } from "./errors.js";

/** Which document is being read: a REST reply ("GET /repos/…") or a webhook body. */
export interface ReplySource {
  readonly kind: "rest" | "webhook";
  /** "GET /repos/o/r/actions/jobs/1", or the webhook event name. */
  readonly what: string;
}

export type Json = Record<string, unknown>;

export function malformed(
  source: ReplySource,
  path: string,
  expected: string,
  value: unknown,
): SandboxedError {
  if (source.kind === "webhook") {
    return new SandboxedError(
      WEBHOOK_PAYLOAD,
      `${source.what} webhook payload is malformed: ${path} must be ${expected}, got ${describeValue(value)}`,
      {
        hint: "Point the webhook at GitHub's workflow_job events with content type application/json.",
      },
    );
  }
  return new SandboxedError(
    BAD_REPLY,
    `GitHub's reply to ${source.what} is malformed: ${path} must be ${expected}, got ${describeValue(value)}`,
    {
      hint: "Check that github.apiUrl is GitHub's REST API (https://api.github.com, or https://HOST/api/v3 for GHES) and no proxy rewrites replies.",
    },
  );
}

export function object(source: ReplySource, value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw malformed(source, path, "an object", value);
  }
  return value as Json;
}

export function list(source: ReplySource, value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(source, path, "a list", value);
  return value;
}

export function int(source: ReplySource, json: Json, key: string, path: string): number {
  const value = json[key];
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw malformed(source, `${path}.${key}`, "a whole number", value);
  }
  return value;
}

/** An integer when present; undefined when absent or null. */
export function optionalInt(
  source: ReplySource,
  json: Json,
  key: string,
  path: string,
): number | undefined {
  if (json[key] === undefined || json[key] === null) return undefined;
  return int(source, json, key, path);
}

export function str(source: ReplySource, json: Json, key: string, path: string): string {
  const value = json[key];
  if (typeof value !== "string") throw malformed(source, `${path}.${key}`, "a string", value);
  return value;
}

/** A string, or null when absent or null. */
export function nullableStr(
  source: ReplySource,
  json: Json,
  key: string,
  path: string,
): string | null {
  const value = json[key];
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") {
    throw malformed(source, `${path}.${key}`, "a string or null", value);
  }
  return value;
}

export function bool(source: ReplySource, json: Json, key: string, path: string): boolean {
  const value = json[key];
  if (typeof value !== "boolean") throw malformed(source, `${path}.${key}`, "true or false", value);
  return value;
}

export function strList(source: ReplySource, json: Json, key: string, path: string): string[] {
  const value = json[key];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw malformed(source, `${path}.${key}`, "a list of strings", value);
  }
  return value as string[];
}
