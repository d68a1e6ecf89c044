import { describe, expect, it } from "vitest";
import { parseClientHello } from "../../runner/network/index.js";
import type { HelloParse } from "../../runner/network/index.js";
import { captureClientHello } from "./fixtures.js";

/** A minimal ClientHello with the given extensions, in one or more records. */
function hello(extensions: Buffer | undefined, recordSplit?: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32),
    Buffer.from([0]), // session id
    Buffer.from([0, 2, 0x13, 0x01]), // one cipher suite
    Buffer.from([1, 0]), // null compression
    ...(extensions ? [u16(extensions.length), extensions] : []),
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  const parts = recordSplit ? [hs.subarray(0, recordSplit), hs.subarray(recordSplit)] : [hs];
  return Buffer.concat(
    parts.map((p) => Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), u16(p.length), p])),
  );
}
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), u16(data.length), data]);
const sni = (...names: string[]) => {
  const list = Buffer.concat(
    names.map((n) => Buffer.concat([Buffer.from([0]), u16(n.length), Buffer.from(n, "latin1")])),
  );
  return ext(0, Buffer.concat([u16(list.length), list]));
};

describe("parseClientHello", () => {
  it.each<{ name: string; data: () => Buffer; expect: HelloParse }>([
    {
      name: "SNI",
      data: () => hello(sni("allowed.test")),
      expect: { kind: "hello", sni: "allowed.test", ech: false },
    },
    {
      name: "SNI after another extension",
      data: () => hello(Buffer.concat([ext(10, Buffer.from([0, 2, 0, 29])), sni("a.test")])),
      expect: { kind: "hello", sni: "a.test", ech: false },
    },
    {
      name: "no extensions",
      data: () => hello(undefined),
      expect: { kind: "hello", sni: undefined, ech: false },
    },
    {
      name: "extensions without SNI",
      data: () => hello(ext(10, Buffer.from([0, 2, 0, 29]))),
      expect: { kind: "hello", sni: undefined, ech: false },
    },
    {
      name: "ECH extension",
      data: () => hello(Buffer.concat([sni("front.test"), ext(0xfe0d, Buffer.from([0]))])),
      expect: { kind: "hello", sni: "front.test", ech: true },
    },
    {
      name: "handshake split over two records",
      data: () => hello(sni("allowed.test"), 20),
      expect: { kind: "hello", sni: "allowed.test", ech: false },
    },
    {
      name: "two SNI extensions",
      data: () => hello(Buffer.concat([sni("a.test"), sni("b.test")])),
      expect: { kind: "malformed" },
    },
    {
      name: "two host names in one SNI",
      data: () => hello(sni("a.test", "b.test")),
      expect: { kind: "malformed" },
    },
    {
      name: "SNI with a NUL byte",
      data: () => hello(sni("allowed.test\0.evil")),
      expect: { kind: "malformed" },
    },
    {
      name: "extension length past the end",
      data: () => hello(Buffer.from([0, 0, 0, 99])),
      expect: { kind: "malformed" },
    },
    {
      name: "not a ClientHello",
      data: () => Buffer.from([0x16, 0x03, 0x01, 0, 4, 2, 0, 0, 0]),
      expect: { kind: "malformed" },
    },
    {
      name: "record over 16 KiB",
      data: () => Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01]),
      expect: { kind: "malformed" },
    },
    { name: "HTTP", data: () => Buffer.from("GET / HTTP/1.1\r\n"), expect: { kind: "not-tls" } },
    { name: "SSH", data: () => Buffer.from("SSH-2.0-x\r\n"), expect: { kind: "not-tls" } },
    {
      name: "0x16 then not TLS",
      data: () => Buffer.from([0x16, 0x41, 0x41, 0x41, 0x41]),
      expect: { kind: "not-tls" },
    },
    { name: "empty", data: () => Buffer.alloc(0), expect: { kind: "need-more" } },
    {
      name: "first 3 bytes",
      data: () => hello(sni("allowed.test")).subarray(0, 3),
      expect: { kind: "need-more" },
    },
    {
      name: "all but the last byte",
      data: () => {
        const h = hello(sni("allowed.test"));
        return h.subarray(0, h.length - 1);
      },
      expect: { kind: "need-more" },
    },
  ])("$name", ({ data, expect: want }) => {
    expect(parseClientHello(data())).toEqual(want);
  });

  it("reads the SNI of a real Node ClientHello, and needs more at every shorter prefix", async () => {
    const real = await captureClientHello("allowed.test");
    expect(parseClientHello(real)).toMatchObject({ kind: "hello", sni: "allowed.test" });
    for (let n = 1; n < real.length; n += 7) {
      expect(parseClientHello(real.subarray(0, n)).kind).toBe("need-more");
    }
  });
});
