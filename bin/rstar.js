#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` through `prepare`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
    process.stderr.write("rstar: dist/ is missing; run `npm run build` (or `npm ci`) in the package directory first.\n");
    process.exit(70);
}
await import(entry.href);
