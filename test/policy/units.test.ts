import { describe, expect, it } from "vitest";
import {
  formatBandwidth,
  formatDuration,
  formatSize,
  parseBandwidth,
  parseDuration,
  parseSize,
} from "../../runner/policy/index.js";

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

const SIZE_FORM = "write a whole number with KiB, MiB, GiB or TiB, e.g. 4GiB or 512MiB";
const RATE_FORM = "write a whole number with Kbit, Mbit or Gbit, e.g. 50Mbit";
const DURATION_FORM = "write whole hours, minutes and seconds, e.g. 2h, 90m or 1h30m";

type Row = { name: string; text: string; value?: number; hint?: string };

function check(parse: (t: string) => { ok: true; value: number } | { ok: false; hint: string }) {
  return ({ text, value, hint }: Row): void => {
    const result = parse(text);
    if (value !== undefined) expect(result).toEqual({ ok: true, value });
    else expect(result).toEqual({ ok: false, hint });
  };
}

describe("parseSize", () => {
  it.each<Row>([
    // --- normal form: every unit, smallest and larger values ---
    { name: "1KiB, the smallest size", text: "1KiB", value: KiB },
    { name: "512MiB", text: "512MiB", value: 512 * MiB },
    { name: "4GiB", text: "4GiB", value: 4 * GiB },
    { name: "1TiB", text: "1TiB", value: TiB },
    { name: "1536MiB (1.5GiB in normal form)", text: "1536MiB", value: 1536 * MiB },
    // --- zero and leading zeros: the boundary below 1 ---
    { name: "0GiB is not a size", text: "0GiB", hint: SIZE_FORM },
    { name: "01GiB: leading zero", text: "01GiB", hint: "write 1GiB" },
    // --- decimal and lowercase units read as the binary unit ---
    { name: "4GB (decimal prefix)", text: "4GB", hint: "write 4GiB" },
    { name: "4gib (lowercase)", text: "4gib", hint: "write 4GiB" },
    { name: "4G (no B)", text: "4G", hint: "write 4GiB" },
    { name: "512mb", text: "512mb", hint: "write 512MiB" },
    // --- spaces ---
    { name: "4 GiB (inner space)", text: "4 GiB", hint: "write 4GiB" },
    { name: " 4GiB (leading space)", text: " 4GiB", hint: "write 4GiB" },
    { name: "4GiB  (trailing space)", text: "4GiB ", hint: "write 4GiB" },
    // --- fractions become the next smaller unit ---
    { name: "1.5GiB", text: "1.5GiB", hint: "write 1536MiB" },
    { name: "0.5KiB rounds up to 1KiB", text: "0.5KiB", hint: "write 1KiB" },
    // --- no unit ---
    { name: "4096 (bare number)", text: "4096", hint: `a size needs a unit: ${SIZE_FORM}` },
    { name: "4096B (bytes)", text: "4096B", hint: `a size needs a unit: ${SIZE_FORM}` },
    { name: "4096 bytes", text: "4096 bytes", hint: `a size needs a unit: ${SIZE_FORM}` },
    // --- adversarial ---
    { name: "empty string", text: "", hint: SIZE_FORM },
    { name: "negative", text: "-1GiB", hint: SIZE_FORM },
    { name: "exponent", text: "1e3GiB", hint: SIZE_FORM },
    { name: "unknown unit XiB", text: "4XiB", hint: SIZE_FORM },
    { name: "PiB is not a unit", text: "1PiB", hint: SIZE_FORM },
    { name: "unit only", text: "GiB", hint: SIZE_FORM },
  ])("$name", check(parseSize));
});

describe("parseBandwidth", () => {
  it.each<Row>([
    // --- normal form ---
    { name: "1Kbit, the smallest rate", text: "1Kbit", value: 1e3 },
    { name: "50Mbit", text: "50Mbit", value: 50e6 },
    { name: "1Gbit", text: "1Gbit", value: 1e9 },
    { name: "1500Mbit", text: "1500Mbit", value: 1.5e9 },
    // --- zero ---
    { name: "0Mbit is not a rate", text: "0Mbit", hint: RATE_FORM },
    // --- bits per second spelt another way ---
    { name: "50Mbps", text: "50Mbps", hint: "write 50Mbit" },
    { name: "50mbps", text: "50mbps", hint: "write 50Mbit" },
    { name: "50mbit (lowercase)", text: "50mbit", hint: "write 50Mbit" },
    { name: "50 Mbit (space)", text: "50 Mbit", hint: "write 50Mbit" },
    // --- bytes per second: eight times the bits ---
    { name: "50MB/s", text: "50MB/s", hint: "write 400Mbit" },
    { name: "50MBps", text: "50MBps", hint: "write 400Mbit" },
    { name: "100kb/s (lowercase b: bits)", text: "100kb/s", hint: "write 100Kbit" },
    // --- fractions ---
    { name: "1.5Gbit", text: "1.5Gbit", hint: "write 1500Mbit" },
    { name: "0.5Kbit rounds up", text: "0.5Kbit", hint: "write 1Kbit" },
    // --- adversarial ---
    { name: "bare number", text: "50", hint: RATE_FORM },
    { name: "empty string", text: "", hint: RATE_FORM },
    { name: "Tbit is not a unit", text: "50Tbit", hint: RATE_FORM },
    { name: "negative", text: "-50Mbit", hint: RATE_FORM },
  ])("$name", check(parseBandwidth));
});

describe("parseDuration", () => {
  it.each<Row>([
    // --- normal form: each unit and combinations in h, m, s order ---
    { name: "1s, the shortest", text: "1s", value: 1 },
    { name: "60s", text: "60s", value: 60 },
    { name: "90m", text: "90m", value: 5400 },
    { name: "2h", text: "2h", value: 7200 },
    { name: "1h30m", text: "1h30m", value: 5400 },
    { name: "1h30m15s", text: "1h30m15s", value: 5415 },
    { name: "1h15s (no minutes)", text: "1h15s", value: 3615 },
    // --- zero parts ---
    { name: "0s is not a duration", text: "0s", hint: DURATION_FORM },
    { name: "0h", text: "0h", hint: DURATION_FORM },
    { name: "1h0m: zero part", text: "1h0m", hint: DURATION_FORM },
    { name: "01h: leading zero", text: "01h", hint: "write 1h" },
    // --- order and spaces ---
    { name: "30m1h: wrong order", text: "30m1h", hint: DURATION_FORM },
    { name: "1 h (space)", text: "1 h", hint: "write 1h" },
    // --- no unit ---
    { name: "90 (bare number)", text: "90", hint: "a duration needs a unit: write 90m or 90s" },
    {
      name: "0 (bare zero): no invalid 0m hint",
      text: "0",
      hint: `a duration needs a unit: ${DURATION_FORM}`,
    },
    {
      name: "1.5 (bare fraction): no invalid 1.5m hint",
      text: "1.5",
      hint: `a duration needs a unit: ${DURATION_FORM}`,
    },
    // --- other units and fractions ---
    { name: "1d (days)", text: "1d", hint: "write 24h" },
    { name: "2 days", text: "2 days", hint: "write 48h" },
    { name: "1.5h", text: "1.5h", hint: "write 1h30m" },
    { name: "0.5s rounds to 1s", text: "0.5s", hint: "write 1s" },
    { name: "1w (weeks): not offered", text: "1w", hint: DURATION_FORM },
    // --- adversarial ---
    { name: "empty string", text: "", hint: DURATION_FORM },
    { name: "unit only", text: "h", hint: DURATION_FORM },
    { name: "negative", text: "-1h", hint: DURATION_FORM },
  ])("$name", check(parseDuration));
});

describe("formatSize", () => {
  it.each([
    // --- exact multiples take the largest unit ---
    { name: "1KiB", bytes: KiB, text: "1KiB" },
    { name: "1MiB", bytes: MiB, text: "1MiB" },
    { name: "1GiB", bytes: GiB, text: "1GiB" },
    { name: "3TiB", bytes: 3 * TiB, text: "3TiB" },
    { name: "1.5GiB shown in MiB", bytes: 1.5 * GiB, text: "1536MiB" },
    { name: "1MiB + 1KiB shown in KiB", bytes: MiB + KiB, text: "1025KiB" },
    // --- below and around 1KiB: rounded up to a whole KiB ---
    { name: "1023 bytes", bytes: 1023, text: "1KiB" },
    { name: "1025 bytes", bytes: 1025, text: "2KiB" },
    { name: "1 byte", bytes: 1, text: "1KiB" },
  ])("$name", ({ bytes, text }) => {
    expect(formatSize(bytes)).toBe(text);
    if (bytes % KiB === 0) expect(parseSize(text)).toEqual({ ok: true, value: bytes });
  });
});

describe("formatBandwidth", () => {
  it.each([
    // --- exact multiples ---
    { name: "1Kbit", bps: 1e3, text: "1Kbit" },
    { name: "1Mbit", bps: 1e6, text: "1Mbit" },
    { name: "1Gbit", bps: 1e9, text: "1Gbit" },
    { name: "1000Gbit (no larger unit)", bps: 1e12, text: "1000Gbit" },
    { name: "1.5Mbit shown in Kbit", bps: 1.5e6, text: "1500Kbit" },
    { name: "2.5Gbit shown in Mbit", bps: 2.5e9, text: "2500Mbit" },
    // --- around 1Kbit ---
    { name: "999 bit/s rounds up", bps: 999, text: "1Kbit" },
    { name: "1001 bit/s rounds up", bps: 1001, text: "2Kbit" },
  ])("$name", ({ bps, text }) => {
    expect(formatBandwidth(bps)).toBe(text);
    if (bps % 1000 === 0) expect(parseBandwidth(text)).toEqual({ ok: true, value: bps });
  });
});

describe("formatDuration", () => {
  it.each([
    // --- zero: shown, though not valid input ---
    { name: "0s", seconds: 0, text: "0s" },
    // --- each boundary: 59/60/61 seconds, 3599/3600/3601 ---
    { name: "1s", seconds: 1, text: "1s" },
    { name: "59s", seconds: 59, text: "59s" },
    { name: "60s is 1m", seconds: 60, text: "1m" },
    { name: "61s", seconds: 61, text: "1m1s" },
    { name: "3599s", seconds: 3599, text: "59m59s" },
    { name: "3600s is 1h", seconds: 3600, text: "1h" },
    { name: "3601s: no zero minutes", seconds: 3601, text: "1h1s" },
    { name: "5400s", seconds: 5400, text: "1h30m" },
    // --- days stay in hours ---
    { name: "a day", seconds: 86400, text: "24h" },
    { name: "25h1m1s", seconds: 90061, text: "25h1m1s" },
  ])("$name", ({ seconds, text }) => {
    expect(formatDuration(seconds)).toBe(text);
    if (seconds > 0) expect(parseDuration(text)).toEqual({ ok: true, value: seconds });
  });
});
