// Whether dist/ is behind the sources; shared by the build (--if-stale) and
// the `strata` launcher (bin/strata.mjs), which checks it on every start and
// so must stay cheap: one readdir, a stat per source file and one small read.
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const SRC = path.join(ROOT, "src");
export const DIST = path.join(ROOT, "dist");
export const STAMP = ".build-stamp";

/** The files the build compiles: every .ts under src/ but tests and declarations. */
export async function sourceFiles() {
  return (await readdir(SRC, { recursive: true }))
    .map((entry) => path.join(SRC, String(entry)))
    .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.endsWith(".d.ts"));
}

/**
 * The stamp the build leaves in dist/: the sources it compiled, so a source
 * added or removed since (whose mtime may be older than the build, as after
 * a `git checkout` of an old file or a move) still makes the build stale.
 */
export function buildStamp(sources) {
  return `${JSON.stringify({ builtAt: new Date().toISOString(), sources: relativeSources(sources) })}\n`;
}

function relativeSources(sources) {
  return sources.map((file) => path.relative(SRC, file).split(path.sep).join("/")).sort();
}

/**
 * True when dist/ is missing, or a source, the build scripts, the lock file
 * or the installed packages (bundled into dist/) are newer than it, or a
 * source was added or removed since.
 */
export async function isBuildStale() {
  const [built, stamp] = await Promise.all([
    stat(path.join(DIST, STAMP)).then(
      (s) => s.mtimeMs,
      () => null,
    ),
    readFile(path.join(DIST, STAMP), "utf8").then(
      (text) => JSON.parse(text),
      () => null,
    ),
  ]);
  if (built === null || !Array.isArray(stamp?.sources)) return true;
  const sources = await sourceFiles();
  const inputs = [
    ...sources,
    path.join(ROOT, "scripts/build.mjs"),
    import.meta.filename,
    path.join(ROOT, "package-lock.json"),
    // npm rewrites this on every install that changes node_modules.
    path.join(ROOT, "node_modules/.package-lock.json"),
  ];
  const times = await Promise.all(
    inputs.map((file) =>
      stat(file).then(
        (s) => s.mtimeMs,
        () => 0, // an optional input that is absent
      ),
    ),
  );
  if (times.some((t) => t > built)) return true;
  const listed = relativeSources(sources);
  return listed.length !== stamp.sources.length || listed.some((file, i) => file !== stamp.sources[i]);
}
