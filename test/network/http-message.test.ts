import { describe, expect, it } from "vitest";
import {
  forwardHeaders,
  hostHeaderAgrees,
  parseAbsoluteUrl,
  parseAuthority,
} from "../../runner/network/http-message.js";

describe("parseAuthority (CONNECT target)", () => {
  it.each<{ name: string; text: string; expect: unknown }>([
    {
      name: "name and port",
      text: "allowed.test:443",
      expect: { host: "allowed.test", port: 443 },
    },
    { name: "bracketed IPv6", text: "[::1]:443", expect: { host: "::1", port: 443 } },
    { name: "port 65535", text: "a.test:65535", expect: { host: "a.test", port: 65535 } },
    { name: "port 65536", text: "a.test:65536", expect: undefined },
    { name: "port 0", text: "a.test:0", expect: undefined },
    { name: "no port", text: "a.test", expect: undefined },
    { name: "userinfo", text: "u@a.test:443", expect: undefined },
    { name: "path", text: "a.test:443/x", expect: undefined },
    { name: "bare IPv6", text: "::1:443", expect: undefined },
  ])("$name", ({ text, expect: want }) => {
    expect(parseAuthority(text)).toEqual(want);
  });
});

describe("parseAbsoluteUrl", () => {
  it.each<{ name: string; text: string; expect: unknown }>([
    {
      name: "default port",
      text: "http://a.test/x?y",
      expect: { host: "a.test", port: 80, path: "/x?y", authority: "a.test" },
    },
    {
      name: "explicit port",
      text: "http://a.test:8080/",
      expect: { host: "a.test", port: 8080, path: "/", authority: "a.test:8080" },
    },
    {
      name: "no path",
      text: "http://a.test",
      expect: { host: "a.test", port: 80, path: "/", authority: "a.test" },
    },
    {
      name: "query without path",
      text: "http://a.test?q",
      expect: { host: "a.test", port: 80, path: "/?q", authority: "a.test" },
    },
    {
      name: "upper-case scheme",
      text: "HTTP://a.test/",
      expect: { host: "a.test", port: 80, path: "/", authority: "a.test" },
    },
    { name: "https", text: "https://a.test/", expect: undefined },
    { name: "origin form", text: "/x", expect: undefined },
    { name: "userinfo", text: "http://u:p@a.test/", expect: undefined },
    { name: "bad port", text: "http://a.test:99999/", expect: undefined },
  ])("$name", ({ text, expect: want }) => {
    expect(parseAbsoluteUrl(text)).toEqual(want);
  });
});

describe("hostHeaderAgrees", () => {
  it.each<{ name: string; header: string; agrees: boolean }>([
    { name: "same", header: "a.test:8080", agrees: true },
    { name: "case and trailing dot", header: "A.TEST.:8080", agrees: true },
    { name: "other host", header: "b.test:8080", agrees: false },
    { name: "default port is not 8080", header: "a.test", agrees: false },
    { name: "garbage", header: "a.test:8080 x", agrees: false },
  ])("$name", ({ header, agrees }) => {
    expect(hostHeaderAgrees(header, { host: "a.test", port: 8080 })).toBe(agrees);
  });
});

describe("forwardHeaders", () => {
  it("drops hop-by-hop, proxy and forged job headers; keeps body framing", () => {
    const out = forwardHeaders(
      [
        "Host",
        "evil.test",
        "x-sandboxed-job",
        "forged",
        "Proxy-Authorization",
        "Basic x",
        "Proxy-Connection",
        "keep-alive",
        "Connection",
        "keep-alive, X-Secret, content-length",
        "X-Secret",
        "1",
        "Content-Length",
        "3",
        "Accept",
        "*/*",
      ],
      { authority: "a.test:8080" },
      "job-1",
    );
    expect(out).toEqual([
      "Host",
      "a.test:8080",
      "Content-Length",
      "3",
      "Accept",
      "*/*",
      "X-Sandboxed-Job",
      "job-1",
      "Connection",
      "close",
    ]);
  });
});
