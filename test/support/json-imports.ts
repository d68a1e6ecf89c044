// Every test worker: let Node import @actions/workflow-parser's JSON schemas (research G10), as
// bin/sandboxed.js does for the CLI, instead of having vite inline (and re-map) the package.
import { register } from "node:module";

register("../../bin/json-import-hooks.js", import.meta.url);
