import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { readSecretFile } from "../../runner/config/index.js";

const dir = mkdtempSync(path.join(tmpdir(), "sbx-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("readSecretFile: what it returns", () => {
  type Row = { name: string; content: string; mode: number; secret: string };
  it.each<Row>([
    { name: "one trailing newline dropped", content: "s3cret\n", mode: 0o600, secret: "s3cret" },
    { name: "a CRLF ending dropped", content: "s3cret\r\n", mode: 0o600, secret: "s3cret" },
    { name: "no newline: as is", content: "s3cret", mode: 0o600, secret: "s3cret" },
    { name: "only the last newline dropped", content: "a\nb\n\n", mode: 0o600, secret: "a\nb\n" },
    { name: "owner read-only (0400)", content: "s3cret\n", mode: 0o400, secret: "s3cret" },
    {
      name: "a PEM key keeps its inner lines",
      content: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      mode: 0o600,
      secret: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
    },
    {
      name: "exactly 64 KiB",
      content: "x".repeat(64 * 1024),
      mode: 0o600,
      secret: "x".repeat(64 * 1024),
    },
  ])("$name", ({ name, content, mode, secret }) => {
    const file = path.join(dir, name.replace(/\W+/g, "-"));
    writeFileSync(file, content);
    chmodSync(file, mode);
    expect(readSecretFile(file).reveal()).toBe(secret);
  });

  it("follows a symlink and checks the file it points at", () => {
    const target = path.join(dir, "target");
    writeFileSync(target, "s3cret\n");
    chmodSync(target, 0o600);
    const link = path.join(dir, "link");
    symlinkSync(target, link);
    expect(readSecretFile(link).reveal()).toBe("s3cret");
    chmodSync(target, 0o644);
    expect(() => readSecretFile(link)).toThrow(/mode 0644/);
  });
});

describe("readSecretFile: the secret never prints", () => {
  it("shows [redacted] to JSON, inspect and template strings", () => {
    const file = path.join(dir, "printed");
    writeFileSync(file, "s3cret\n");
    chmodSync(file, 0o600);
    const secret = readSecretFile(file);
    expect(JSON.stringify({ secret })).toBe('{"secret":"[redacted]"}');
    expect(inspect({ secret })).toBe("{ secret: [redacted] }");
    expect(`${secret}`).toBe("[redacted]");
    expect(String(secret)).toBe("[redacted]");
    expect(Object.values(secret)).not.toContain("s3cret");
  });
});
