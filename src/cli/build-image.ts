/**
 * Makes the embedded database image (see runtime/database-image.ts): a new
 * PGlite data directory with every registered migration applied, closed
 * cleanly. Run by the build (scripts/build.mjs) from the compiled output, so
 * the image always holds the migrations that build ships. Given the previous
 * build's image directory, reuses it when it was made with the same
 * migrations (initdb is most of a build's time).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { modules } from "../modules/index.ts";
import { openDatabase } from "../platform/database/database.ts";
import { installImage, isCurrentImage, reuseImage } from "../runtime/database-image.ts";
import { allMigrations, createMigrator } from "../runtime/migrations.ts";

const started = performance.now();
const migrations = allMigrations(modules);
const previous = process.argv[2];
if (previous && (await isCurrentImage(previous, migrations))) {
  await reuseImage(previous);
  process.stderr.write(`strata: database image unchanged (${migrations.length} migrations)\n`);
} else {
  const work = await mkdtemp(path.join(tmpdir(), "strata-image-"));
  try {
    const pgDir = path.join(work, "pg");
    const database = await openDatabase({ driver: "pglite", dataDir: pgDir, statementTimeoutMs: 600_000 });
    await createMigrator(database, modules).up();
    await database.close();
    await installImage(pgDir, migrations);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  process.stderr.write(
    `strata: database image with ${migrations.length} migrations in ${Math.round(performance.now() - started)} ms\n`,
  );
}
