#!/usr/bin/env node
// Entry point: the compiled CLI lives in build/ (npm run build).
import { main } from "../build/runner/cli/main.js";

process.exitCode = await main(process.argv.slice(2));
