// Whether dist/ is behind the sources; shared by the build (--if-stale) and
// the `strata` launcher (bin/strata.mjs), which checks it on every start and
// so must stay cheap: one readdir and a stat per source file.
import { readdir, stat } from "node:fs/promises";
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
 * True when dist/ is missing, or a source, the build scripts or the lock file
 * is newer than it, or a source was added or removed since.
 */
export async function isBuildStale() {
  const built = await stat(path.join(DIST, STAMP)).then(
    (s) => s.mtimeMs,
    () => null,
  );
  if (built === null) return true;
  const sources = await sourceFiles();
  const inputs = [
    ...sources,
    path.join(ROOT, "scripts/build.mjs"),
    import.meta.filename,
    path.join(ROOT, "package-lock.json"),
  ];
  const times = await Promise.all(inputs.map((file) => stat(file).then((s) => s.mtimeMs)));
  if (times.some((t) => t > built)) return true;
  const outputs = (await readdir(DIST, { recursive: true })).filter((f) => String(f).endsWith(".js")).length;
  return outputs !== sources.length;
}
