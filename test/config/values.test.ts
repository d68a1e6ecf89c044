import { describe, expect, it } from "vitest";
import {
  formatConfigDuration,
  parseConfigDuration,
  parseListen,
} from "../../runner/config/index.js";

const S = 1000;
const DAY = 86_400 * S;
const FORM = "write whole days, hours, minutes and seconds, e.g. 14d, 5m or 1h30m";

describe("parseConfigDuration", () => {
  type Row = { name: string; text: string; ms?: number; hint?: string };
  it.each<Row>([
    // --- policy's forms ---
    { name: "seconds", text: "60s", ms: 60 * S },
    { name: "minutes and seconds", text: "1m30s", ms: 90 * S },
    { name: "hours", text: "2h", ms: 7200 * S },
    // --- days, which only the config takes ---
    { name: "days", text: "14d", ms: 14 * DAY },
    { name: "days and hours", text: "1d12h", ms: 1.5 * DAY },
    { name: "days, hours, minutes, seconds", text: "1d1h1m1s", ms: DAY + 3661 * S },
    // --- near misses: the hint gives the normal form ---
    { name: "0d is no duration", text: "0d", hint: FORM },
    { name: "days after hours", text: "1h2d", hint: FORM },
    { name: "days then garbage", text: "1dx", hint: FORM },
    { name: "days spelled out", text: "14 days", hint: "write 14d" },
    { name: "weeks", text: "2w", hint: "write 14d" },
    { name: "a bare number", text: "60", hint: "a duration needs a unit: write 60m or 60s" },
    { name: "a fraction of an hour", text: "1.5h", hint: "write 1h30m" },
    { name: "empty", text: "", hint: FORM },
  ])("$name", ({ text, ms, hint }) => {
    expect(parseConfigDuration(text)).toEqual(
      ms === undefined ? { ok: false, hint } : { ok: true, ms },
    );
  });

  it.each([
    { name: "14 days", ms: 14 * DAY, text: "14d" },
    { name: "a day and a half", ms: 1.5 * DAY, text: "1d12h" },
    { name: "a minute", ms: 60 * S, text: "1m" },
    { name: "zero", ms: 0, text: "0s" },
  ])("formats $name as $text", ({ ms, text }) => {
    expect(formatConfigDuration(ms)).toBe(text);
  });
});

describe("parseListen", () => {
  type Row = { name: string; text: string; value?: unknown; problem?: string; hint?: string };
  it.each<Row>([
    // --- TCP ---
    { name: "IPv4 and port", text: "0.0.0.0:8080", value: { host: "0.0.0.0", port: 8080 } },
    { name: "a host name", text: "localhost:9464", value: { host: "localhost", port: 9464 } },
    { name: "IPv6 in brackets", text: "[::1]:8080", value: { host: "::1", port: 8080 } },
    { name: "port 0: any free port", text: "127.0.0.1:0", value: { host: "127.0.0.1", port: 0 } },
    {
      name: "port 65535, the top",
      text: "127.0.0.1:65535",
      value: { host: "127.0.0.1", port: 65535 },
    },
    {
      name: "port 65536, one over",
      text: "127.0.0.1:65536",
      problem: "port 65536 is not 0-65535 in normal form",
      hint: "write 127.0.0.1:65535",
    },
    {
      name: "leading zero in the port",
      text: "127.0.0.1:080",
      problem: "port 080 is not 0-65535 in normal form",
      hint: "write 127.0.0.1:80",
    },
    {
      name: "IPv6 without brackets",
      text: "::1:8080",
      problem: "not host:port or unix:/absolute/path, e.g. 127.0.0.1:8080",
      hint: "write host:port or unix:/absolute/path, e.g. 127.0.0.1:8080",
    },
    {
      name: "a port alone",
      text: "8080",
      problem: "not host:port or unix:/absolute/path, e.g. 127.0.0.1:8080",
      hint: "write 127.0.0.1:8080 for this host only, or 0.0.0.0:8080 for all interfaces",
    },
    {
      name: "a URL",
      text: "https://hooks.example.com:8443/webhook",
      problem: "a listen address is not a URL",
      hint: "write hooks.example.com:8443",
    },
    {
      name: "a host with an underscore",
      text: "my_host:80",
      problem: "my_host is not a host name or IPv4 address",
      hint: "write host:port or unix:/absolute/path, e.g. 127.0.0.1:8080",
    },
    // --- Unix sockets ---
    { name: "an absolute socket", text: "unix:/run/s.sock", value: { path: "/run/s.sock" } },
    {
      name: "a relative socket",
      text: "unix:s.sock",
      problem: "a socket path must be absolute",
      hint: "write unix:/run/sandboxed/s.sock",
    },
    {
      name: "a socket path not in normal form",
      text: "unix:/run//x/../s.sock",
      problem: "a socket path must be in normal form",
      hint: "write unix:/run/s.sock",
    },
    {
      name: "107 bytes fits sun_path",
      text: `unix:/${"a".repeat(106)}`,
      value: { path: `/${"a".repeat(106)}` },
    },
    {
      name: "108 bytes does not",
      text: `unix:/${"a".repeat(107)}`,
      problem: "the socket path is 108 bytes; Linux allows 107",
      hint: "use a shorter path, e.g. unix:/run/sandboxed/webhook.sock",
    },
  ])("$name", ({ text, value, problem, hint }) => {
    expect(parseListen(text)).toEqual(
      value === undefined ? { ok: false, problem, hint } : { ok: true, value },
    );
  });
});
