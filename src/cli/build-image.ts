/**
 * Makes the embedded database image (see runtime/database-image.ts): a fresh
 * in-memory PGlite with every registered migration applied, dumped as a
 * tarball. Run by the build (scripts/build.mjs), from the compiled output, so
 * the image always matches the migrations that build ships.
 */
import { Kysely } from "kysely";
import { modules } from "../modules/index.ts";
import { createPGlite } from "../platform/database/database.ts";
import { PGliteDialect } from "../platform/database/pglite-dialect.ts";
import { Migrator } from "../platform/migrations/migrator.ts";
import { writeImage } from "../runtime/database-image.ts";
import { allMigrations } from "../runtime/migrations.ts";

const started = performance.now();
const migrations = allMigrations(modules);
const pglite = await createPGlite(null);
const db = new Kysely<any>({ dialect: new PGliteDialect(pglite) });
await new Migrator(db, migrations).up();
// A checkpoint first, so the image carries the migrated pages rather than WAL to replay.
await pglite.exec("checkpoint");
const image = await pglite.dumpDataDir("none");
await db.destroy();
await pglite.close();
await writeImage(image, migrations);
process.stdout.write(
  `strata: database image with ${migrations.length} migrations (${(image.size / 1024 / 1024).toFixed(1)} MiB) ` +
    `in ${Math.round(performance.now() - started)} ms\n`,
);
