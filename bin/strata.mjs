#!/usr/bin/env node
// The `strata` command: runs the compiled build in dist/ (made by `npm install`,
// refreshed by `npm start` and `npm run build`).
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("strata: the build is missing; run `npm install` (or `npm run build`) first\n");
  process.exit(1);
}
await import(main.href);
