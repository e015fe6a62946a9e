#!/usr/bin/env node
// Compiles src/**/*.ts (tests excepted) to dist/, one JavaScript file per
// source file in the same tree, then builds the pre-migrated database image.
// Run by `npm install` (prepare) and, when a source is newer than the build,
// by `npm start` (prestart); `--if-stale` skips a build that is up to date.
//
// esbuild strips types file by file (no bundling), so worker-thread entry
// files stay separate files beside the modules that start them. It leaves
// import specifiers as written, so relative `.ts` specifiers are rewritten
// to `.js` here. Type checking is `npm run typecheck`'s job, not the build's.
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const SRC = path.join(ROOT, "src");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, ".build-stamp");

const sources = (await readdir(SRC, { recursive: true }))
  .map((entry) => path.join(SRC, String(entry)))
  .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"));

if (process.argv.includes("--if-stale") && !(await isStale())) process.exit(0);

const started = performance.now();
await rm(DIST, { recursive: true, force: true });
const result = await build({
  entryPoints: sources,
  outbase: SRC,
  outdir: DIST,
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
  const text = file.path.endsWith(".js") ? rewriteSpecifiers(file.text) : file.text;
  await writeFile(file.path, text);
}
const compiledMs = Math.round(performance.now() - started);

// The image is made by the compiled code itself, so it holds exactly the
// migrations this build registers.
const image = spawnSync(process.execPath, [path.join(DIST, "cli/build-image.js")], { stdio: "inherit" });
if (image.status !== 0) process.exit(image.status ?? 1);
await writeFile(STAMP, `${new Date().toISOString()}\n`);
process.stdout.write(`strata: compiled ${sources.length} files to dist/ in ${compiledMs} ms\n`);

/** `./x.ts` and `../y/z.ts` in static and dynamic imports and re-exports become `.js`. */
function rewriteSpecifiers(code) {
  return code.replace(
    /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g,
    (_, head, quote, stem) => `${head}${quote}${stem}.js${quote}`,
  );
}

/** True when dist/ is missing or any source (or this script, or the lock file) is newer than it. */
async function isStale() {
  const built = await stat(STAMP).then(
    (s) => s.mtimeMs,
    () => null,
  );
  if (built === null) return true;
  const inputs = [...sources, import.meta.filename, path.join(ROOT, "package-lock.json")];
  for (const file of inputs) {
    if ((await stat(file)).mtimeMs > built) return true;
  }
  // A deleted source leaves a stale output behind; compare the sets.
  const outputs = (await readdir(DIST, { recursive: true })).filter((f) => String(f).endsWith(".js")).length;
  return outputs !== sources.length;
}
