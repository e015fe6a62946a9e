#!/usr/bin/env node
// The `strata` command (and `npm start`): runs the compiled build in dist/.
// `npm install` builds it; when a source is newer than the build (a checkout
// or an edit since), it is rebuilt first, so what runs always matches src/.
import { spawnSync } from "node:child_process";
import module from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DIST, isBuildStale, ROOT } from "../scripts/build-state.mjs";

if (await isBuildStale()) {
  // The build's messages go to stderr, so a command's own output stays clean.
  const build = spawnSync(process.execPath, [path.join(ROOT, "scripts/build.mjs")], { stdio: ["ignore", 2, 2] });
  if (build.status !== 0) {
    process.stderr.write("strata: the build failed; see above\n");
    process.exit(1);
  }
}
// Node 22.1 and later keep V8's compiled code between starts (loading some
// 500 modules is most of a start beyond PGlite's own); Node 20 has no such
// cache, and this is a no-op there.
module.enableCompileCache?.();
await import(pathToFileURL(path.join(DIST, "cli/main.js")).href);
