// Docs that must follow the code (STYLE H6, H17): every lint rule has a row in docs/policy.md, and
// every error code thrown under runner/ has a row in docs/errors.md.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RULES } from "../../runner/policy/index.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith(".ts") ? [full] : [];
  });
}

describe("docs", () => {
  const policyDoc = readFileSync("docs/policy.md", "utf8");
  it.each(Object.keys(RULES).map((rule) => ({ rule })))(
    "policy.md documents rule $rule",
    ({ rule }) => {
      expect(policyDoc).toContain(`<a id="${rule}"></a>\`${rule}\``);
    },
  );

  it("errors.md lists every SBX_ code thrown in runner/", () => {
    const errorsDoc = readFileSync("docs/errors.md", "utf8");
    const codes = new Set(
      sources("runner").flatMap((f) =>
        [...readFileSync(f, "utf8").matchAll(/"(SBX_[A-Z_]+)"/g)].map((m) => m[1]!),
      ),
    );
    expect(codes.size).toBeGreaterThan(0);
    expect([...codes].filter((c) => !errorsDoc.includes(`\`${c}\``))).toEqual([]);
  });
});
