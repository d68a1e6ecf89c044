// @actions/workflow-parser 0.3.61 imports its JSON schemas without `with { type: "json" }`, which
// plain Node refuses (ERR_IMPORT_ATTRIBUTE_MISSING). This load hook serves those two files as
// modules with a default export, and nothing else. Registered by bin/sandboxed.js.
import { readFile } from "node:fs/promises";

export async function load(url, context, nextLoad) {
  if (url.includes("/@actions/workflow-parser/") && url.endsWith(".json")) {
    const text = await readFile(new URL(url), "utf8");
    return { format: "module", source: `export default ${text};`, shortCircuit: true };
  }
  return nextLoad(url, context);
}
