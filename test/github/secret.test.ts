// Secrets never print (issue 6: the JIT blob and tokens are never logged).
import { Writable } from "node:stream";
import { inspect } from "node:util";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createSecret } from "../../runner/github/index.js";

const VALUE = "eyJydW5uZXIiOiJzZWNyZXQta2V5In0=";

describe("Secret", () => {
  const secret = createSecret(VALUE);

  it("reveals its value on request", () => {
    expect(secret.reveal()).toBe(VALUE);
  });

  it.each([
    { name: "String()", show: () => String(secret) },
    { name: "a template string", show: () => `${secret}` },
    { name: "concatenation", show: () => "blob: " + secret },
    { name: "JSON.stringify", show: () => JSON.stringify({ jit: secret }) },
    { name: "util.inspect", show: () => inspect({ jit: secret }, { depth: 5 }) },
    { name: "an error message", show: () => new Error(`failed with ${secret}`).message },
  ])("prints [redacted] through $name", ({ show }) => {
    const text = show();
    expect(text).toContain("[redacted]");
    expect(text).not.toContain(VALUE);
  });

  it("prints [redacted] in a pino line", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    pino(sink).info({ jitConfig: secret }, "runner registered");
    expect(lines.join("")).toContain('"jitConfig":"[redacted]"');
    expect(lines.join("")).not.toContain(VALUE);
  });

  it("holds the value in no property", () => {
    expect(Object.values(secret)).not.toContain(VALUE);
    expect(Object.isFrozen(secret)).toBe(true);
  });
});
