#!/usr/bin/env node
// Entry point: the compiled CLI lives in build/ (npm run build).
import { register } from "node:module";

register("./json-import-hooks.js", import.meta.url);
const { main } = await import("../build/runner/cli/main.js");

process.exitCode = await main(process.argv.slice(2));
