// CI fails when the committed action bundle is stale (issue 2): rebuild in memory and compare.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script without type declarations
import { bundle, OUTFILE } from "../../scripts/bundle-action.mjs";

describe("dist/action/index.js", () => {
  it("matches a fresh build of runner/cli/action.ts (run `npm run bundle` when this fails)", async () => {
    const fresh = (await bundle()) as string;
    expect(readFileSync(OUTFILE as string, "utf8") === fresh).toBe(true);
  });
});
