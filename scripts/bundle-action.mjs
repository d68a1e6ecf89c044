// Builds dist/action/index.js, the committed single-file bundle action.yml runs.
// `--check` rebuilds in memory and fails when the committed file differs (a stale bundle).
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { build } from "esbuild";

export const OUTFILE = "dist/action/index.js";

export async function bundle() {
  const result = await build({
    entryPoints: ["runner/cli/action.ts"],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    outfile: OUTFILE,
    legalComments: "none",
    // Some bundled dependencies still call require(); give ESM one.
    banner: {
      js: 'import { createRequire as __sbxRequire } from "node:module"; const require = __sbxRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = await bundle();
  if (process.argv.includes("--check")) {
    const committed = readFileSync(OUTFILE, "utf8");
    if (committed !== text) {
      console.error(`${OUTFILE} is stale: run npm run bundle and commit it.`);
      process.exit(1);
    }
    console.log(`${OUTFILE} is up to date.`);
  } else {
    mkdirSync("dist/action", { recursive: true });
    writeFileSync(OUTFILE, text);
    console.log(`wrote ${OUTFILE} (${Math.round(text.length / 1024)} KiB)`);
  }
}
