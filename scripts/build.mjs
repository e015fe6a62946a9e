#!/usr/bin/env node
// Compiles src/**/*.ts (tests excepted) to dist/, one JavaScript file per
// source file in the same tree, then makes the pre-migrated database image
// (dist/database-image). Run by `npm install` (prepare) and `npm run build`;
// `strata` and `npm start` (bin/strata.mjs) rebuild before starting when a
// source is newer than the build; `--if-stale` does the same here.
//
// esbuild strips types file by file (no bundling), so worker-thread entry
// files stay separate files beside the modules that start them. It leaves
// import specifiers as written, so relative `.ts` specifiers are rewritten
// to `.js` here. Type checking is `npm run typecheck`'s job, not the build's.
//
// The new build is made beside dist/ and swapped in by rename, so a running
// server never sees a half-written tree. Messages go to stderr: a command's
// own output (`strata migrate status`) stays clean.
import { spawnSync } from "node:child_process";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { DIST, isBuildStale, SRC, STAMP, sourceFiles } from "./build-state.mjs";

if (process.argv.includes("--if-stale") && !(await isBuildStale())) process.exit(0);
const sources = await sourceFiles();

const started = performance.now();
const next = `${DIST}.next-${process.pid}`;
await rm(next, { recursive: true, force: true });
// Loaded only when building: a start with an up-to-date build never pays for it.
const { build } = await import("esbuild");
const result = await build({
  entryPoints: sources,
  outbase: SRC,
  outdir: next,
  format: "esm",
  platform: "node",
  target: "node20",
  bundle: false,
  sourcemap: "linked",
  write: false,
  logLevel: "warning",
});
for (const file of result.outputFiles) {
  await mkdir(path.dirname(file.path), { recursive: true });
  await writeFile(file.path, file.path.endsWith(".js") ? rewriteSpecifiers(file.text) : file.text);
}
const compiledMs = Math.round(performance.now() - started);

// The image is made by the compiled code itself, so it holds exactly the
// migrations this build registers; the previous build's image is reused when
// its fingerprint still matches.
const image = spawnSync(process.execPath, [path.join(next, "cli/build-image.js"), path.join(DIST, "database-image")], {
  stdio: ["ignore", "inherit", "inherit"],
});
if (image.status !== 0) {
  await rm(next, { recursive: true, force: true });
  process.exit(image.status ?? 1);
}
await writeFile(path.join(next, STAMP), `${new Date().toISOString()}\n`);
const old = `${DIST}.old-${process.pid}`;
await rename(DIST, old).catch((error) => {
  if (error.code !== "ENOENT") throw error;
});
try {
  await rename(next, DIST);
} catch (error) {
  // Another build (a second `strata` started while the build was stale)
  // swapped its tree in first; it compiled the same sources, so use it.
  if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
  await rm(next, { recursive: true, force: true });
}
await rm(old, { recursive: true, force: true });
process.stderr.write(`strata: compiled ${sources.length} files to dist/ in ${compiledMs} ms\n`);

/** `./x.ts` and `../y/z.ts` in static and dynamic imports and re-exports become `.js`. */
function rewriteSpecifiers(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g,
    (_, head, quote, stem) => `${head}${quote}${stem}.js${quote}`,
  );
}
