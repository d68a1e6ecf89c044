/**
 * Secrets as values that cannot leak by accident (STYLE H5; issue 6: the JIT blob is never logged).
 * createSecret is the config area's: the text lives in a closure and prints as "[redacted]".
 */
import { createSecret } from "../config/index.js";
import type { Secret } from "./types.js";

export { createSecret };

/** The text of a value given either plainly or as a Secret. */
export function revealed(value: string | Secret): string {
  return typeof value === "string" ? value : value.reveal();
}
