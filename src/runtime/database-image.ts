import { createHash, randomUUID } from "node:crypto";
import { constants, type Dirent, readFileSync } from "node:fs";
import { access, copyFile, cp, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Migration } from "../platform/migrations/migration.ts";

/**
 * A pre-initialized, pre-migrated embedded database made at build time
 * (`dist/database-image/pg`), so a fresh data directory starts from a copy
 * of it instead of running initdb and every migration in-process.
 *
 * The image is an ordinary PGlite data directory, made by PGlite itself and
 * closed cleanly. Copying it, rather than unpacking a dumpDataDir tarball
 * through PGlite's loadDataDir, keeps the first start identical to every
 * later one: PGlite opens an existing directory, and nothing of the image
 * (41 MiB, mostly a preallocated WAL segment) passes through the process's
 * memory. The copy is made beside the target and renamed into place, so a
 * crash mid-copy leaves no half-made database behind.
 *
 * The image is only as good as the migrations it was made with: its manifest
 * records a fingerprint of the migration list (every version, name and the
 * text of its up and down functions), of the PGlite and pgvector builds, and
 * of the database module that says how PGlite is created.
 * A start that finds no image, or one with another fingerprint, falls back to
 * initdb; either way the server then runs the migrator, a no-op on a current
 * image.
 */

/** Beside the compiled tree (dist/database-image); running from sources there is none, and initdb is used. */
export const IMAGE_DIR = path.resolve(import.meta.dirname, "../database-image");
const MANIFEST_FILE = "manifest.json";
/**
 * The database module's source, read from src/ whether this runs from source
 * or from the bundled build (dist/ sits beside src/, and its bundles hold no
 * file of that module's own).
 */
const DATABASE_MODULE = path.resolve(import.meta.dirname, "../../src/platform/database/database.ts");

export interface ImageManifest {
  fingerprint: string;
  migrations: { version: number; name: string }[];
  createdAt: string;
}

/** How a data directory's database came to be on this start. */
export type DatabaseOrigin =
  | { from: "existing" }
  | { from: "image" }
  | { from: "initdb"; reason: "image_missing" | "image_stale" };

export function imageFingerprint(migrations: readonly Migration[]): string {
  const hash = createHash("sha256");
  for (const pkg of ["@electric-sql/pglite", "@electric-sql/pglite-pgvector"]) {
    hash.update(`${pkg}@${packageVersion(pkg)}\n`);
  }
  // How PGlite is created (extensions, start parameters) lives in the
  // database module; any change there makes a new image rather than risk
  // an image made with other settings.
  hash.update(readFileSync(DATABASE_MODULE));
  for (const m of migrations) hash.update(`${m.version}\n${m.name}\n${m.up.toString()}\n${m.down.toString()}\n`);
  return hash.digest("hex");
}

/**
 * Readies the PGlite directory `pgDir` before it is opened: left as it is
 * when it holds a database; else made a copy of a current image; else left
 * for PGlite to initdb. The caller holds the data directory's lock.
 */
export async function prepareDatabaseDir(
  pgDir: string,
  migrations: readonly Migration[] | null,
  imageDir = IMAGE_DIR,
): Promise<DatabaseOrigin> {
  if (await exists(path.join(pgDir, "PG_VERSION"))) return { from: "existing" };
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(imageDir, MANIFEST_FILE), "utf8")) as ImageManifest;
  } catch {
    return { from: "initdb", reason: "image_missing" };
  }
  if (!migrations || manifest.fingerprint !== imageFingerprint(migrations))
    return { from: "initdb", reason: "image_stale" };
  const copy = `${pgDir}.image-${randomUUID().slice(0, 8)}`;
  try {
    await copyTree(path.join(imageDir, "pg"), copy);
    // rename(2) replaces an empty directory (say, one made by hand) but
    // refuses a non-empty one, which is then PGlite's to judge.
    await rename(copy, pgDir);
    return { from: "image" };
  } catch (error) {
    await rm(copy, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return { from: "initdb", reason: "image_missing" };
    throw error;
  }
}

/**
 * Records `builtDir` (a closed PGlite data directory with `migrations`
 * applied) as the image. The manifest is written last, so an image whose
 * build was interrupted is never used.
 */
/** True when `imageDir` holds an image made with exactly these migrations. */
export async function isCurrentImage(imageDir: string, migrations: readonly Migration[]): Promise<boolean> {
  try {
    const manifest = JSON.parse(await readFile(path.join(imageDir, MANIFEST_FILE), "utf8")) as ImageManifest;
    return (
      manifest.fingerprint === imageFingerprint(migrations) && (await exists(path.join(imageDir, "pg", "PG_VERSION")))
    );
  } catch {
    return false;
  }
}

/** Copies a current image from a previous build. */
export async function reuseImage(previousDir: string, imageDir = IMAGE_DIR) {
  await rm(imageDir, { recursive: true, force: true });
  await cp(previousDir, imageDir, { recursive: true });
}

export async function installImage(builtDir: string, migrations: readonly Migration[], imageDir = IMAGE_DIR) {
  await rm(imageDir, { recursive: true, force: true });
  await mkdir(imageDir, { recursive: true });
  await rename(builtDir, path.join(imageDir, "pg"));
  const manifest: ImageManifest = {
    fingerprint: imageFingerprint(migrations),
    migrations: migrations.map((m) => ({ version: m.version, name: m.name })),
    createdAt: new Date().toISOString(),
  };
  await writeFile(path.join(imageDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Copies a directory tree, many files at a time: an image is about a
 * thousand files, and fs.cp's one-at-a-time walk took half again as long.
 */
async function copyTree(from: string, to: string) {
  const entries = await readdir(from, { recursive: true, withFileTypes: true });
  const relative = (e: Dirent) => path.relative(from, path.join(e.parentPath, e.name));
  await mkdir(to, { recursive: true });
  // Parents sort before their children, so each mkdir finds its parent.
  for (const dir of entries
    .filter((e) => e.isDirectory())
    .map(relative)
    .sort())
    await mkdir(path.join(to, dir));
  const files = entries.filter((e) => e.isFile()).map(relative);
  let next = 0;
  const copyNext = async () => {
    while (next < files.length) {
      const file = files[next++] as string;
      await copyFile(path.join(from, file), path.join(to, file), constants.COPYFILE_EXCL);
    }
  };
  await Promise.all(Array.from({ length: 16 }, copyNext));
}

function packageVersion(name: string): string {
  // import.meta.resolve gives the package's entry file; its package.json is
  // the nearest one above it that carries the package's name.
  let dir = path.dirname(new URL(import.meta.resolve(name)).pathname);
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name) return pkg.version ?? "unknown";
    } catch {
      // no package.json here
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

async function exists(file: string) {
  return access(file).then(
    () => true,
    () => false,
  );
}
