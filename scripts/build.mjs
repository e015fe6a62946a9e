#!/usr/bin/env node
// Compiles src/**/*.ts (tests excepted) to dist/ as ES module bundles, then
// makes the pre-migrated database image (dist/database-image). Run by
// `npm install` (prepare) and `npm run build`; `strata` and `npm start`
// (bin/strata.mjs) rebuild before starting when a source is newer than the
// build; `--if-stale` does the same here.
//
// esbuild bundles the sources and the plain JavaScript dependencies with code
// splitting: loading some 500 modules, each resolved, read and compiled on its
// own, was most of a second start beyond PGlite's own. The files that must
// exist by path (see entryPoints) are entry points at the path they had in
// src/, with .js for .ts; shared code and dynamic imports become chunks in
// dist/chunks. Type checking is `npm run typecheck`'s job, not the build's.
//
// The new build is made beside dist/ and swapped in by rename, so a running
// server never sees a half-written tree. Messages go to stderr: a command's
// own output (`strata migrate status`) stays clean.
import { spawnSync } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { buildStamp, DIST, isBuildStale, SRC, STAMP, sourceFiles } from "./build-state.mjs";

// Packages that find files of their own at run time by other means than
// __dirname (wasm and data files, worker-thread scripts, native addons) stay
// in node_modules, as do the server profile's drivers, loaded only when
// configured, and the build's own tools. Every other dependency is bundled: Node then loads a few
// files at start instead of some 500.
const EXTERNAL = [
  "@electric-sql/pglite",
  "@electric-sql/pglite-pgvector",
  "piscina",
  "pino",
  "pino-pretty",
  "thread-stream",
  "@node-rs/argon2",
  "@aws-sdk/*",
  "ioredis",
  "pg",
  "openai",
  "@huggingface/transformers",
  "pdfjs-dist",
  "esbuild",
  "tsx",
];

/**
 * `import.meta.url`, `.dirname` and `.filename` in a source file name the
 * place that file would have in dist/ had it been compiled on its own
 * (dist/modules/writing/codec-tasks.js), not the chunk its code lands in, so
 * `siblingModule` and the database image's location work as they do when run
 * from source. Each output file's banner defines `__strataRoot`, dist/ itself.
 */
const moduleLocation = {
  name: "strata-module-location",
  setup(build) {
    // A bundled CommonJS package that finds its own files through __dirname
    // (@fastify/swagger-ui's static assets) gets the directory it has in
    // node_modules, placed relative to dist/ like the rest.
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.c?js$/ }, async ({ path: file }) => {
      const text = await readFile(file, "utf8");
      if (!text.includes("__dirname") && !text.includes("__filename")) return undefined;
      const relative = path.relative(DIST, file).split(path.sep).join("/");
      const filename = `__strataFileURLToPath(new URL(${JSON.stringify(relative)}, __strataRoot))`;
      return {
        loader: "js",
        contents: text.replace(/\b__filename\b/g, filename).replace(/\b__dirname\b/g, `__strataDirname(${filename})`),
      };
    });
    build.onLoad({ filter: /\.ts$/ }, async ({ path: file }) => {
      const text = await readFile(file, "utf8");
      if (!file.startsWith(SRC + path.sep) || !text.includes("import.meta.")) return { contents: text, loader: "ts" };
      const relative = path.relative(SRC, file).split(path.sep).join("/").replace(/\.ts$/, ".js");
      const url = `new URL(${JSON.stringify(relative)}, __strataRoot).href`;
      return {
        loader: "ts",
        contents: text
          .replaceAll("import.meta.url", url)
          .replaceAll("import.meta.filename", `__strataFileURLToPath(${url})`)
          .replaceAll("import.meta.dirname", `__strataDirname(__strataFileURLToPath(${url}))`),
      };
    });
  },
};

// CommonJS dependencies bundled into ESM call `require` for Node's built-ins;
// the banner gives every output file one, and the root of dist/ (filled in
// per file by placeRoot) for moduleLocation.
const BANNER = [
  'import { createRequire as __strataCreateRequire } from "node:module";',
  'import { dirname as __strataDirname } from "node:path";',
  'import { fileURLToPath as __strataFileURLToPath } from "node:url";',
  "const require = __strataCreateRequire(import.meta.url);",
  'const __strataRoot = new URL("__STRATA_ROOT__", import.meta.url);',
].join(" ");

if (process.argv.includes("--if-stale") && !(await isBuildStale())) process.exit(0);
const sources = await sourceFiles();

const started = performance.now();
const next = `${DIST}.next-${process.pid}`;
await rm(next, { recursive: true, force: true });
// Loaded only when building: a start with an up-to-date build never pays for it.
const { build } = await import("esbuild");
const result = await build({
  entryPoints: await entryPoints(sources),
  outbase: SRC,
  outdir: next,
  entryNames: "[dir]/[name]",
  chunkNames: "chunks/[name]-[hash]",
  format: "esm",
  platform: "node",
  target: "node20",
  bundle: true,
  splitting: true,
  external: EXTERNAL,
  banner: { js: BANNER },
  plugins: [moduleLocation],
  sourcemap: "linked",
  write: false,
  logLevel: "warning",
});
for (const file of result.outputFiles) {
  await mkdir(path.dirname(file.path), { recursive: true });
  await writeFile(file.path, file.path.endsWith(".js") ? placeRoot(file.path, file.text) : file.text);
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
await writeFile(path.join(next, STAMP), buildStamp(sources));
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

/**
 * The files that must exist by path: the command, the image builder (spawned
 * by this script) and every module a compute task names for its worker thread
 * through `siblingModule(import.meta.url, "./name")`. Everything else lands in
 * these or in shared chunks (dist/chunks); dynamic imports become chunks.
 */
async function entryPoints(files) {
  const entries = new Set([path.join(SRC, "cli/main.ts"), path.join(SRC, "cli/build-image.ts")]);
  for (const file of files) {
    const text = await readFile(file, "utf8");
    for (const match of text.matchAll(/siblingModule\(\s*import\.meta\.url\s*,\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) {
      // A mention in a comment names no file; only existing modules are entries.
      const entry = path.resolve(path.dirname(file), `${match[1]}.ts`);
      if (files.includes(entry)) entries.add(entry);
    }
  }
  return [...entries];
}

function placeRoot(file, text) {
  const depth = path.relative(next, path.dirname(file)).split(path.sep).filter(Boolean).length;
  return text.replace("__STRATA_ROOT__", depth === 0 ? "./" : "../".repeat(depth));
}
