import assert from "node:assert/strict";
import { access, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { modules } from "../modules/index.ts";
import { openDatabase } from "../platform/database/database.ts";
import type { Migration } from "../platform/migrations/migration.ts";
import { installImage, isCurrentImage, prepareDatabaseDir } from "./database-image.ts";
import { allMigrations, createMigrator } from "./migrations.ts";

describe("embedded database image", () => {
  let work: string;
  let imageDir: string;
  const migrations = allMigrations(modules);
  const open = (dataDir: string) => openDatabase({ driver: "pglite", dataDir, statementTimeoutMs: 60_000 });

  before(async () => {
    work = await mkdtemp(path.join(tmpdir(), "strata-image-test-"));
    imageDir = path.join(work, "image");
    // Made the way the build makes it: a migrated PGlite directory, closed.
    const built = path.join(work, "built");
    const database = await open(built);
    await createMigrator(database, modules).up();
    await database.close();
    await installImage(built, migrations, imageDir);
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("starts a fresh directory from the image, already migrated", async () => {
    const pgDir = path.join(work, "fresh", "pg");
    assert.deepEqual(await prepareDatabaseDir(pgDir, migrations, imageDir), { from: "image" });
    const database = await open(pgDir);
    try {
      const status = await createMigrator(database, modules).status();
      assert.ok(status.length === migrations.length && status.every((m) => m.state === "applied"));
      assert.deepEqual((await createMigrator(database, modules).up()).applied, [], "the migrator has nothing to do");
      // The modules' tables are there, and the database takes writes.
      const { rows } = await sql<{ n: string }>`select count(*) as n from documents`.execute(database.db);
      assert.equal(rows[0]?.n, "0");
      await sql`create table image_probe (x int)`.execute(database.db);
    } finally {
      await database.close();
    }
    assert.deepEqual(await prepareDatabaseDir(pgDir, migrations, imageDir), { from: "existing" });
    const siblings = await readdir(path.dirname(pgDir));
    assert.deepEqual(siblings, ["pg"], "no copy is left beside the directory");
  });

  it("falls back to initdb when the migrations changed since the image was made", async () => {
    const extra: Migration = { version: 99_999, name: "later_change", up: async () => {}, down: async () => {} };
    const changed = [...migrations, extra];
    assert.equal(await isCurrentImage(imageDir, changed), false);
    const pgDir = path.join(work, "stale", "pg");
    assert.deepEqual(await prepareDatabaseDir(pgDir, changed, imageDir), { from: "initdb", reason: "image_stale" });
    await assert.rejects(access(pgDir), "nothing is copied from a stale image");
    // The fallback works: PGlite runs initdb and the migrator applies everything.
    const database = await open(pgDir);
    try {
      const run = await new (await import("../platform/migrations/migrator.ts")).Migrator(database.db, changed).up();
      assert.equal(run.applied.length, changed.length);
    } finally {
      await database.close();
    }
  });

  it("falls back to initdb when a migration's body changed under the same number and name", async () => {
    const [first, ...rest] = migrations;
    assert.ok(first);
    const edited: Migration = { ...first, up: async () => {} };
    assert.deepEqual(await prepareDatabaseDir(path.join(work, "edited", "pg"), [edited, ...rest], imageDir), {
      from: "initdb",
      reason: "image_stale",
    });
  });

  it("falls back to initdb when there is no image, or its manifest is damaged", async () => {
    assert.deepEqual(await prepareDatabaseDir(path.join(work, "none", "pg"), migrations, path.join(work, "no-image")), {
      from: "initdb",
      reason: "image_missing",
    });
    const damaged = path.join(work, "damaged");
    await installImage(await copyOf(imageDir), migrations, damaged).catch(() => {});
    await writeFile(path.join(damaged, "manifest.json"), "{");
    assert.deepEqual(await prepareDatabaseDir(path.join(work, "d", "pg"), migrations, damaged), {
      from: "initdb",
      reason: "image_missing",
    });
    assert.match(await readFile(path.join(imageDir, "manifest.json"), "utf8"), /"fingerprint"/);
  });

  async function copyOf(dir: string) {
    const { cp } = await import("node:fs/promises");
    const copy = path.join(work, `copy-${Math.random().toString(36).slice(2)}`);
    await cp(path.join(dir, "pg"), copy, { recursive: true });
    return copy;
  }
});
