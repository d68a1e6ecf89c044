// Masking: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log
// and https://docs.github.com/en/actions/how-tos/write-workflows/choose-what-workflows-do/use-secrets
// ("GitHub automatically redacts secrets printed to the log"). Encoders follow the runner's ValueEncoders.
import { describe, expect, it } from "vitest";
import { createMasker } from "../../runner/engine/masker.js";

function redact(secrets: readonly string[], text: string): string {
  const masker = createMasker();
  for (const secret of secrets) masker.add(secret);
  return masker.redact(text);
}

const DOCS =
  "https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#masking-a-value-in-a-log";

const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe(`createMasker().redact (${DOCS})`, () => {
  it.each<{ name: string; secrets: string[]; text: string; expect: string }>([
    // --- plain values ---
    { name: "no secrets", secrets: [], text: "hello", expect: "hello" },
    { name: "one value", secrets: ["hunter2"], text: "pw: hunter2", expect: "pw: ***" },
    { name: "every occurrence", secrets: ["ab1"], text: "ab1 ab1ab1", expect: "*** ***" },
    { name: "case-sensitive", secrets: ["Secret"], text: "secret SECRET", expect: "secret SECRET" },
    { name: "empty text", secrets: ["x1"], text: "", expect: "" },
    // --- overlapping and nested secrets ---
    {
      name: "longest of nested values",
      secrets: ["abc", "abcdef"],
      text: "abcdefg",
      expect: "***g",
    },
    {
      name: "shorter registered first",
      secrets: ["abcdef", "abc"],
      text: "xabcdef",
      expect: "x***",
    },
    { name: "overlapping values", secrets: ["abcd", "cdef"], text: "abcdef!", expect: "***!" },
    { name: "touching values", secrets: ["abc", "def"], text: "abcdef", expect: "***" },
    {
      name: "overlapping occurrences of one value",
      secrets: ["aa"],
      text: "aaa b",
      expect: "*** b",
    },
    { name: "separate values", secrets: ["abc", "xyz"], text: "abc-xyz", expect: "***-***" },
    // --- multi-line secrets: each (trimmed) line too ---
    {
      name: "whole multi-line value",
      secrets: ["l1-aaa\nl2-bbb"],
      text: "l1-aaa\nl2-bbb",
      expect: "***",
    },
    { name: "a line on its own", secrets: ["l1-aaa\nl2-bbb"], text: "x l2-bbb", expect: "x ***" },
    { name: "CRLF lines", secrets: ["l1-aaa\r\nl2-bbb\r\n"], text: "l1-aaa", expect: "***" },
    {
      name: "lines trimmed",
      secrets: ["  key-one  \n  key-two"],
      text: "[key-two]",
      expect: "[***]",
    },
    { name: "blank lines skipped", secrets: ["zz1\n \nzz2"], text: "a b", expect: "a b" },
    // --- encoded forms (runner HostContext value encoders) ---
    {
      name: "JSON-escaped",
      secrets: ['p"w\\d'],
      text: JSON.stringify({ p: 'p"w\\d' }),
      expect: '{"p":"***"}',
    },
    { name: "URL-escaped", secrets: ["p@ss word!"], text: "u=p%40ss%20word%21", expect: "u=***" },
    // Only characters that depend on the secret alone are masked; the neighbours' bits stay.
    { name: "base64", secrets: ["supersecret"], text: b64("supersecret"), expect: "***Q=" },
    {
      name: "base64 after a 1-byte prefix",
      secrets: ["supersecret"],
      text: b64("usupersecret"),
      expect: "dXN1***",
    },
    {
      name: "base64 after a 2-byte prefix",
      secrets: ["supersecret"],
      text: b64("ussupersecret"),
      expect: "dXNz***A==",
    },
    {
      name: "base64 of user:password",
      secrets: ["p4ssw0rd-xyz"],
      text: `Basic ${b64("user:p4ssw0rd-xyz")}`,
      expect: "Basic dXNlcjpw***o=",
    },
    {
      name: "short secret's base64 is not masked",
      secrets: ["ab"],
      text: `${b64("ab")} ab`,
      expect: "YWI= ***",
    },
  ])("$name", ({ secrets, text, expect: expected }) => {
    expect(redact(secrets, text)).toBe(expected);
  });
});

describe(`createMasker().add (${DOCS})`, () => {
  it.each<{ name: string; value: string; added: boolean }>([
    // "Can't add secret mask for empty string" (runner AddMaskCommandExtension: IsNullOrWhiteSpace)
    { name: "empty", value: "", added: false },
    { name: "spaces", value: "   ", added: false },
    { name: "tab and newline", value: "\t\n", added: false },
    { name: "no-break space (.NET white space)", value: "\u00a0", added: false },
    { name: "NEL (.NET white space)", value: "\u0085", added: false },
    { name: "BOM (not .NET white space)", value: "\ufeff", added: true },
    { name: "zero-width space (not .NET white space)", value: "\u200b", added: true },
    { name: "a value", value: "x", added: true },
  ])("$name: $added", ({ value, added }) => {
    const masker = createMasker();
    expect(masker.add(value)).toBe(added);
    if (added) expect(masker.redact(`<${value}>`)).toBe("<***>");
    else expect(masker.redact(`<${value}>`)).toBe(`<${value}>`);
  });

  it("registers a value once (docs: once per value per job)", () => {
    const masker = createMasker();
    expect([masker.add("abc"), masker.add("abc"), masker.add("abcd")]).toEqual([true, false, true]);
  });

  it("keeps masking values added earlier when a later one is added", () => {
    const masker = createMasker();
    masker.add("first-1");
    masker.add("second-2");
    expect(masker.redact("first-1 second-2")).toBe("*** ***");
  });

  it("handles a lone surrogate, which has no URL form", () => {
    const masker = createMasker();
    expect(masker.add("a\ud800b")).toBe(true);
    expect(masker.redact("xa\ud800by")).toBe("x***y");
  });
});
