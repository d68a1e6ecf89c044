/**
 * Secrets as values that cannot leak by accident (STYLE H5; issue 6: the JIT blob is never logged).
 * The text lives in a closure, not a property, so JSON.stringify, util.inspect, pino and template
 * strings all see "[redacted]", and no property holds the value.
 */
import { inspect } from "node:util";
import type { Secret } from "./types.js";

const REDACTED = "[redacted]";

export function createSecret(value: string): Secret {
  const secret = {
    reveal: () => value,
    toString: () => REDACTED,
    toJSON: () => REDACTED,
    [inspect.custom]: () => REDACTED,
    [Symbol.toPrimitive]: () => REDACTED,
  };
  return Object.freeze(secret);
}

/** The text of a value given either plainly or as a Secret. */
export function revealed(value: string | Secret): string {
  return typeof value === "string" ? value : value.reveal();
}
