/**
 * Units in policy files. Input must be in normal form (STYLE H8): an integer, no space, and the
 * exact unit spelling below. Anything else is rejected with the normal form in the hint, so
 * `4GB`, `4g` and `4 GiB` all get "write 4GiB" rather than a silent guess.
 */

export type UnitKind = "size" | "bandwidth" | "duration";

const SIZE_UNITS = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 } as const;
const BANDWIDTH_UNITS = { Kbit: 1e3, Mbit: 1e6, Gbit: 1e9 } as const;
const DURATION_UNITS = { h: 3600, m: 60, s: 1 } as const;

export const SIZE_PATTERN = "^[1-9][0-9]*(KiB|MiB|GiB|TiB)$";
export const BANDWIDTH_PATTERN = "^[1-9][0-9]*(Kbit|Mbit|Gbit)$";
export const DURATION_PATTERN = "^(?=[0-9])([1-9][0-9]*h)?([1-9][0-9]*m)?([1-9][0-9]*s)?$";

export type UnitResult = { ok: true; value: number } | { ok: false; hint: string };

const EXAMPLES: Record<UnitKind, string> = {
  size: "a whole number with KiB, MiB, GiB or TiB, e.g. 4GiB or 512MiB",
  bandwidth: "a whole number with Kbit, Mbit or Gbit, e.g. 50Mbit",
  duration: "whole hours, minutes and seconds, e.g. 2h, 90m or 1h30m",
};

export function describeUnit(kind: UnitKind): string {
  return EXAMPLES[kind];
}

/** Bytes for a size such as `4GiB`. */
export function parseSize(text: string): UnitResult {
  const m = /^([1-9][0-9]*)(KiB|MiB|GiB|TiB)$/.exec(text);
  if (m) return { ok: true, value: Number(m[1]) * SIZE_UNITS[m[2] as keyof typeof SIZE_UNITS] };
  return { ok: false, hint: suggestSize(text) };
}

/** Bits per second for a rate such as `50Mbit`. */
export function parseBandwidth(text: string): UnitResult {
  const m = /^([1-9][0-9]*)(Kbit|Mbit|Gbit)$/.exec(text);
  if (m) {
    return {
      ok: true,
      value: Number(m[1]) * BANDWIDTH_UNITS[m[2] as keyof typeof BANDWIDTH_UNITS],
    };
  }
  return { ok: false, hint: suggestBandwidth(text) };
}

/** Seconds for a duration such as `1h30m`. */
export function parseDuration(text: string): UnitResult {
  const m = new RegExp(DURATION_PATTERN).exec(text);
  if (m && text !== "") {
    let seconds = 0;
    for (const part of text.match(/[0-9]+[hms]/g) ?? []) {
      seconds += Number(part.slice(0, -1)) * DURATION_UNITS[part.slice(-1) as "h" | "m" | "s"];
    }
    return { ok: true, value: seconds };
  }
  return { ok: false, hint: suggestDuration(text) };
}

export function parseUnit(kind: UnitKind, text: string): UnitResult {
  switch (kind) {
    case "size":
      return parseSize(text);
    case "bandwidth":
      return parseBandwidth(text);
    case "duration":
      return parseDuration(text);
    default: {
      const never: never = kind;
      throw new Error(`unknown unit kind ${String(never)}`);
    }
  }
}

// --- formatting: the normal form of a number, for `policy show` and for hints ---

export function formatSize(bytes: number): string {
  for (const [unit, factor] of Object.entries(SIZE_UNITS).reverse()) {
    if (bytes % factor === 0 && bytes >= factor) return `${bytes / factor}${unit}`;
  }
  return `${Math.ceil(bytes / 1024)}KiB`;
}

export function formatBandwidth(bps: number): string {
  for (const [unit, factor] of Object.entries(BANDWIDTH_UNITS).reverse()) {
    if (bps % factor === 0 && bps >= factor) return `${bps / factor}${unit}`;
  }
  return `${Math.ceil(bps / 1000)}Kbit`;
}

export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || seconds === 0 ? `${s}s` : ""}`;
}

// --- hints: turn near misses into the normal form ---

function splitNumber(text: string): { num: number; unit: string } | undefined {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z/]*)\s*$/.exec(text);
  if (!m) return undefined;
  return { num: Number(m[1]), unit: m[2] ?? "" };
}

function suggestSize(text: string): string {
  const parts = splitNumber(text);
  if (!parts) return `write ${EXAMPLES.size}`;
  const scale: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
  const first = parts.unit.charAt(0).toLowerCase();
  const factor = scale[first];
  if (factor === undefined || parts.num <= 0) {
    return parts.unit === "" || /^b(ytes?)?$/i.test(parts.unit)
      ? `a size needs a unit: write ${EXAMPLES.size}`
      : `write ${EXAMPLES.size}`;
  }
  // Decimal prefixes (GB) are read as the binary unit the user almost certainly meant.
  return `write ${formatSize(Math.round(parts.num * factor))}`;
}

function suggestBandwidth(text: string): string {
  const parts = splitNumber(text);
  if (!parts) return `write ${EXAMPLES.bandwidth}`;
  const unit = parts.unit;
  const scale: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9 };
  const factor = scale[unit.charAt(0).toLowerCase()];
  if (factor === undefined || parts.num <= 0) return `write ${EXAMPLES.bandwidth}`;
  // `MB/s`, `MBps` (capital B) are bytes per second: eight times the bits.
  const bytes = /^[kmg]B(ps|\/s)$/i.test(unit) && unit.charAt(1) === "B";
  return `write ${formatBandwidth(Math.round(parts.num * factor * (bytes ? 8 : 1)))}`;
}

function suggestDuration(text: string): string {
  const parts = splitNumber(text);
  if (!parts) return `write ${EXAMPLES.duration}`;
  const scale: Record<string, number> = { h: 3600, m: 60, s: 1, d: 86400 };
  const key = parts.unit === "" ? "" : parts.unit.charAt(0).toLowerCase();
  const factor = key === "" ? undefined : scale[key];
  if (factor === undefined) {
    // Only a whole positive number can take a unit as is: "0m" and "1.5m" are not valid either.
    return parts.unit === "" && Number.isInteger(parts.num) && parts.num > 0
      ? `a duration needs a unit: write ${parts.num}m or ${parts.num}s`
      : parts.unit === ""
        ? `a duration needs a unit: write ${EXAMPLES.duration}`
        : `write ${EXAMPLES.duration}`;
  }
  const seconds = Math.round(parts.num * factor);
  return seconds > 0 ? `write ${formatDuration(seconds)}` : `write ${EXAMPLES.duration}`;
}
