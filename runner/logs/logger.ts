/**
 * The service's JSON-lines logger (pino). Secrets are never logged (serve plan, house rules):
 * pino's `redact` censors the known secret keys at the top level, one level down and in request
 * headers, and a scrub pass replaces them at any depth in plain objects, because pino's redaction
 * paths cannot say "anywhere" (`*.x` is one level only).
 */
import { hostname } from "node:os";
import { pino } from "pino";
import type { DestinationStream, Logger as PinoLogger } from "pino";
import { FIELD } from "./fields.js";
import type { JobKeys } from "./fields.js";

export type Logger = PinoLogger;
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export const LOG_LEVELS: readonly LogLevel[] = [
  "fatal",
  "error",
  "warn",
  "info",
  "debug",
  "trace",
  "silent",
];

/** What a censored value reads as; the same text a Secret prints (github area). */
export const REDACTED = "[redacted]";

/**
 * Keys whose values are secrets wherever they appear, compared in lower case: the JIT runner
 * config, tokens, the App's private key, the webhook secret, HTTP credentials.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  "jitconfig",
  "encoded_jit_config",
  "encodedjitconfig",
  "token",
  "access_token",
  "accesstoken",
  "privatekey",
  "private_key",
  "secret",
  "webhooksecret",
  "password",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
]);

const HEADER_PARENTS = [
  "headers",
  "*.headers",
  "req.headers",
  "err.request.headers",
  "err.headers",
];

/** pino redaction paths: each secret key at the top and one level down, and in headers. */
export const REDACT_PATHS: readonly string[] = [
  ...["jitConfig", "encoded_jit_config", "token", "privateKey", "secret", "webhookSecret"].flatMap(
    (k) => [k, `*.${k}`],
  ),
  ...HEADER_PARENTS.flatMap((h) => [
    `${h}.authorization`,
    `${h}["proxy-authorization"]`,
    `${h}.cookie`,
    `${h}["set-cookie"]`,
  ]),
];

const MAX_DEPTH = 8;

function isPlain(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with every secret key's value replaced by REDACTED, at any depth, in plain
 * objects and arrays. Errors, Secrets and other class instances pass through untouched (the err
 * serializer and REDACT_PATHS handle errors; a Secret prints "[redacted]" itself).
 */
export function scrubSecrets<T>(value: T, depth = 0): T {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v: unknown) => scrubSecrets(v, depth + 1)) as T;
  if (!isPlain(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : scrubSecrets(v, depth + 1);
  }
  return out as T;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /**
   * Where lines go: a stream, a file path (appended, created with its folders) or a file
   * descriptor. Default: standard output, which is what journald collects under systemd.
   */
  readonly destination?: DestinationStream | string | number;
  /** Fields on every line (pid and hostname are always there). */
  readonly base?: Record<string, unknown>;
}

/** A pino logger writing one JSON object per line, level as a word, time as ISO 8601. */
export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination === undefined
      ? undefined
      : typeof options.destination === "string" || typeof options.destination === "number"
        ? pino.destination({ dest: options.destination, mkdir: true, sync: true })
        : options.destination;
  const config = {
    level: options.level,
    base: { pid: process.pid, hostname: hostname(), ...scrubSecrets(options.base ?? {}) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    serializers: { [FIELD.err]: pino.stdSerializers.err },
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (object: Record<string, unknown>) => scrubSecrets(object),
    },
  };
  return destination ? pino(config, destination) : pino(config);
}

/**
 * A child logger whose every line carries the job's delivery id and job id (H16). Pass it to
 * whatever works on the job, so no line can forget them.
 */
export function jobLogger(
  log: Logger,
  keys: JobKeys,
  fields: Record<string, unknown> = {},
): Logger {
  return log.child({
    ...scrubSecrets(fields),
    [FIELD.deliveryId]: keys.deliveryId,
    [FIELD.jobId]: keys.jobId,
  });
}
