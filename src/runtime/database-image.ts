import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { access, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Migration } from "../platform/migrations/migration.ts";

/**
 * A pre-initialized, pre-migrated embedded database made at build time, so a
 * fresh data directory starts by unpacking files instead of running initdb
 * and every migration in-process (initdb alone is most of a first start, and
 * leaves its heap behind in the process).
 *
 * The image is only as good as the migrations it was made with: its manifest
 * records a fingerprint of the migration list (every version, name and the
 * text of its up and down functions) and of the PGlite and pgvector builds.
 * A start whose fingerprint differs, or which finds no image, falls back to
 * initdb; either way the server then runs the migrator, a no-op on a current
 * image.
 */

export const IMAGE_DIR = path.resolve(import.meta.dirname, "../../dist/database-image");
const IMAGE_FILE = "pgdata.tar";
const MANIFEST_FILE = "manifest.json";

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
  for (const m of migrations) hash.update(`${m.version}\n${m.name}\n${m.up.toString()}\n${m.down.toString()}\n`);
  return hash.digest("hex");
}

/**
 * Decides how to open the PGlite directory `pgDir`: as it is when it already
 * holds a database, else from the image when there is a current one, else by
 * initdb. Returns the image's bytes when it is to be used.
 */
export async function planDatabaseStart(
  pgDir: string,
  migrations: readonly Migration[] | null,
  imageDir = IMAGE_DIR,
): Promise<{ origin: DatabaseOrigin; image?: Blob }> {
  if (await exists(path.join(pgDir, "PG_VERSION"))) return { origin: { from: "existing" } };
  if (!migrations) return { origin: { from: "initdb", reason: "image_missing" } };
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(imageDir, MANIFEST_FILE), "utf8")) as ImageManifest;
  } catch {
    return { origin: { from: "initdb", reason: "image_missing" } };
  }
  if (manifest.fingerprint !== imageFingerprint(migrations)) {
    return { origin: { from: "initdb", reason: "image_stale" } };
  }
  try {
    const image = new Blob([await readFile(path.join(imageDir, IMAGE_FILE))]);
    return { origin: { from: "image" }, image };
  } catch {
    return { origin: { from: "initdb", reason: "image_missing" } };
  }
}

/** Writes an image and its manifest; the manifest goes last, so a half-written image is never used. */
export async function writeImage(image: Blob, migrations: readonly Migration[], imageDir = IMAGE_DIR) {
  await mkdir(imageDir, { recursive: true });
  await writeFile(path.join(imageDir, IMAGE_FILE), new Uint8Array(await image.arrayBuffer()));
  const manifest: ImageManifest = {
    fingerprint: imageFingerprint(migrations),
    migrations: migrations.map((m) => ({ version: m.version, name: m.name })),
    createdAt: new Date().toISOString(),
  };
  const temp = path.join(imageDir, `${MANIFEST_FILE}.tmp`);
  await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(temp, path.join(imageDir, MANIFEST_FILE));
}

function packageVersion(name: string): string {
  // import.meta.resolve gives the package's entry file; its package.json is
  // the nearest one above it.
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
