/**
 * Secret masking for every log line, annotation, step summary and report, after the runner's
 * `SecretMasker` (actions/runner src/Sdk/DTLogging/Logging/SecretMasker.cs) and the encoders the
 * runner registers in `HostContext` (ValueEncoders.cs).
 *
 * Docs: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log
 * ("once per value per job"). One masker lives for a whole job: masks added by one step hide the
 * value in every later step, as on GitHub.
 */

/** What a masked value is replaced with, as on GitHub. */
export const MASK = "***";

export interface Masker {
  /**
   * Registers `secret`, each of its lines, and the encoded forms a log may show it in (JSON string,
   * URL, base64). Empty and whitespace-only values are ignored, as the runner ignores them (they would
   * mask every blank). Returns true when the value was new.
   */
  add(secret: string): boolean;
  /** `text` with every registered value replaced by `***`. */
  redact(text: string): string;
}

/**
 * .NET `string.IsNullOrWhiteSpace` (what `::add-mask::` checks), not JS `\s`: U+FEFF and U+200B are
 * not white space to the runner, so a secret made of them is still masked.
 */
const DOTNET_WHITESPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/**
 * Base64 forms shorter than this are not registered: a 2-byte secret's base64 is 2 characters, and
 * masking every "YW" in a log would hide more than it protects.
 */
const MIN_BASE64_LENGTH = 8;

/** True for values the masker ignores: empty or only .NET white space. */
export function isBlank(value: string): boolean {
  return DOTNET_WHITESPACE.test(value);
}

/** `Uri.EscapeDataString`: RFC 3986 unreserved characters only, so `!'()*` are escaped too. */
function uriEscape(value: string): string | undefined {
  try {
    return encodeURIComponent(value).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    // A lone surrogate cannot be percent-encoded; such a value has no URL form to mask.
    return undefined;
  }
}

/**
 * The base64 text a secret produces wherever it starts in an encoded stream (the runner's
 * Base64StringEscape, Shift1 and Shift2, e.g. inside `base64(user:password)`). Only the characters
 * that depend on the secret's bytes alone are kept: the last partial group also depends on what
 * follows, and the padding is not there when the secret sits mid-stream.
 */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  const forms: string[] = [];
  for (const shift of [0, 1, 2]) {
    if (shift >= bytes.length) break;
    const part = bytes.subarray(shift);
    const exact = 4 * Math.floor(part.length / 3) + (part.length % 3);
    const form = part.toString("base64").slice(0, exact);
    if (form.length >= MIN_BASE64_LENGTH) forms.push(form);
  }
  return forms;
}

/** The value itself plus how it looks once a log has encoded it. */
function encodedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  const uri = uriEscape(value);
  return [value, json, ...(uri === undefined ? [] : [uri]), ...base64Forms(value)];
}

export function createMasker(): Masker {
  const secrets = new Set<string>();
  const patterns = new Set<string>();
  // Longest first, so that when ranges are merged below the widest match decides the span.
  let ordered: string[] = [];

  function register(value: string): void {
    for (const form of encodedForms(value)) {
      if (!isBlank(form)) patterns.add(form);
    }
  }

  return {
    add(secret) {
      if (isBlank(secret) || secrets.has(secret)) return false;
      secrets.add(secret);
      register(secret);
      // The runner also masks the trimmed value and each trimmed line of a multi-line secret
      // (Worker.cs InitializeSecretMasker): a tool that prints a PEM key line by line must not leak it.
      for (const part of [secret.trim(), ...secret.split(/[\r\n]+/).map((l) => l.trim())]) {
        if (part !== secret && !isBlank(part)) register(part);
      }
      ordered = [...patterns].sort((a, b) => b.length - a.length);
      return true;
    },

    redact(text) {
      if (ordered.length === 0 || text === "") return text;
      const ranges: Array<[number, number]> = [];
      for (const pattern of ordered) {
        // Every occurrence, overlapping ones included ("aa" twice in "aaa").
        for (let at = text.indexOf(pattern); at >= 0; at = text.indexOf(pattern, at + 1)) {
          ranges.push([at, at + pattern.length]);
        }
      }
      if (ranges.length === 0) return text;
      // Overlapping or touching matches become one `***`: replacing them one after another would
      // leave the tail of the second secret visible ("abcd" and "cdef" in "abcdef").
      ranges.sort((a, b) => a[0] - b[0]);
      let out = "";
      let cursor = 0;
      let [start, end] = ranges[0]!;
      for (const [s, e] of ranges.slice(1)) {
        if (s <= end) {
          end = Math.max(end, e);
          continue;
        }
        out += text.slice(cursor, start) + MASK;
        cursor = end;
        [start, end] = [s, e];
      }
      return out + text.slice(cursor, start) + MASK + text.slice(end);
    },
  };
}
