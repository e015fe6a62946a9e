import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import { modules } from "../../src/modules/index.ts";
import type { Migration } from "../../src/platform/migrations/migration.ts";
import { MigrationError, Migrator } from "../../src/platform/migrations/migrator.ts";
import { allMigrations } from "../../src/runtime/migrations.ts";
import { schemaSnapshot } from "../support/schema-snapshot.ts";

export interface FreshDatabase {
  db: Kysely<any>;
  close(): Promise<void>;
}

/** The real migrations; the fixtures below build on them (pg_trgm). */
const base = () => allMigrations(modules);

/** A small history that touches every kind of object the snapshot reads. */
export const fixtureMigrations: Migration[] = [
  {
    version: 1001,
    name: "fixture_notes",
    async up(db) {
      await sql`create type note_state as enum ('draft', 'published')`.execute(db);
      await db.schema
        .createTable("fixture_notes")
        .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
        .addColumn("owner_id", "uuid", (c) => c.notNull())
        .addColumn("state", sql`note_state`, (c) => c.notNull().defaultTo("draft"))
        .addColumn("body", "text", (c) => c.notNull().check(sql`length(body) < 10000`))
        .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
        .execute();
      await db.schema
        .createIndex("fixture_notes_owner_idx")
        .on("fixture_notes")
        .columns(["owner_id", "created_at"])
        .execute();
      await sql`create index fixture_notes_body_trgm on fixture_notes using gin (body gin_trgm_ops)`.execute(db);
    },
    async down(db) {
      await db.schema.dropTable("fixture_notes").execute();
      await sql`drop type note_state`.execute(db);
    },
  },
  {
    version: 1002,
    name: "fixture_touch_trigger",
    async up(db) {
      await db.schema.alterTable("fixture_notes").addColumn("updated_at", "timestamptz").execute();
      await sql`
        create function fixture_touch() returns trigger language plpgsql as $$
        begin new.updated_at := now(); return new; end $$`.execute(db);
      await sql`create trigger fixture_notes_touch before update on fixture_notes
        for each row execute function fixture_touch()`.execute(db);
    },
    async down(db) {
      await sql`drop trigger fixture_notes_touch on fixture_notes`.execute(db);
      await sql`drop function fixture_touch()`.execute(db);
      await db.schema.alterTable("fixture_notes").dropColumn("updated_at").execute();
    },
  },
];

const failing: Migration = {
  version: 1003,
  name: "fixture_fails_half_way",
  async up(db) {
    await db.schema.createTable("fixture_half_done").addColumn("id", "integer").execute();
    await sql`select * from table_that_does_not_exist`.execute(db);
  },
  async down() {},
};

/**
 * The migrator's contract, run on PGlite and on the Postgres server.
 * `fresh` returns an empty database each time it is called.
 */
export function migrationsContract(name: string, fresh: () => Promise<FreshDatabase>) {
  describe(`migrations: ${name}`, () => {
    it("round-trips every migration: up, all down, up again leaves an identical schema", async () => {
      const { db, close } = await fresh();
      try {
        const migrations = [...base(), ...fixtureMigrations];
        const migrator = new Migrator(db, migrations);
        const empty = await schemaSnapshot(db);
        const first = await migrator.up();
        assert.deepEqual(
          first.applied.map((m) => m.version),
          migrations.map((m) => m.version),
        );
        const afterUp = await schemaSnapshot(db);
        assert.ok(afterUp.some((line) => line.startsWith("trigger CREATE TRIGGER fixture_notes_touch")));
        // The embedded document row cache is invalidated by this trigger (writing migration 120).
        assert.ok(
          afterUp.some((line) =>
            line.startsWith(
              "trigger CREATE TRIGGER documents_notify_changed AFTER DELETE OR UPDATE ON public.documents",
            ),
          ),
          afterUp.filter((line) => line.startsWith("trigger ")).join("\n"),
        );
        assert.ok(afterUp.includes("extension pg_trgm"));

        const down = await migrator.down(migrations.length);
        assert.equal(down.applied.length, migrations.length);
        assert.deepEqual(
          (await schemaSnapshot(db)).filter((l) => !l.includes("strata_migrations")),
          empty
            .filter((l) => !l.includes("strata_migrations"))
            .concat(
              // extensions stay on the way down, by design
              afterUp.filter((l) => l.startsWith("extension ") && !empty.includes(l)),
            )
            .sort(),
        );
        assert.ok((await migrator.status()).every((m) => m.state === "pending"));

        await migrator.up();
        assert.deepEqual(await schemaSnapshot(db), afterUp);
      } finally {
        await close();
      }
    });

    it("applies each migration of every module, rolls it back to the schema before it, and applies it again", async () => {
      const { db, close } = await fresh();
      try {
        const migrations = base();
        // Extensions stay on the way down, by design; the rest must come back exactly.
        const withoutExtensions = async () =>
          (await schemaSnapshot(db)).filter((l) => !l.startsWith("extension ") && !l.includes("strata_migrations"));
        let before = await withoutExtensions();
        for (let i = 0; i < migrations.length; i++) {
          const migration = migrations[i] as Migration;
          const migrator = new Migrator(db, migrations.slice(0, i + 1));
          const up = await migrator.up();
          assert.deepEqual(up.applied, [{ version: migration.version, name: migration.name }]);
          const applied = await withoutExtensions();
          const down = await migrator.down(1);
          assert.deepEqual(down.applied, [{ version: migration.version, name: migration.name }]);
          assert.deepEqual(
            await withoutExtensions(),
            before,
            `${migration.version} ${migration.name}'s down undoes its up`,
          );
          await migrator.up();
          assert.deepEqual(await withoutExtensions(), applied, `${migration.version} ${migration.name} applies again`);
          before = applied;
        }
      } finally {
        await close();
      }
    });

    it("rolls back a failing migration alone and stops there", async () => {
      const { db, close } = await fresh();
      try {
        const migrator = new Migrator(db, [...base(), ...fixtureMigrations, failing]);
        await assert.rejects(migrator.up(), (error: unknown) => {
          assert.ok(error instanceof MigrationError);
          assert.equal(error.migration.version, 1003);
          return true;
        });
        const status = (await migrator.status()).filter((m) => m.version > 1000);
        assert.deepEqual(
          status.map((m) => [m.version, m.state]),
          [
            [1001, "applied"],
            [1002, "applied"],
            [1003, "pending"],
          ],
        );
        assert.ok((await migrator.status()).every((m) => m.version > 1000 || m.state === "applied"));
        const { rows } = await sql<{ t: string | null }>`select to_regclass('fixture_half_done')::text as t`.execute(
          db,
        );
        assert.equal(rows[0]?.t, null, "the failed migration's table was rolled back");
        // The schema from earlier migrations works.
        await db.insertInto("fixture_notes").values({ owner_id: crypto.randomUUID(), body: "hello" }).execute();
      } finally {
        await close();
      }
    });

    it("reverts the newest n, reports unknown versions, and refuses bad histories", async () => {
      const { db, close } = await fresh();
      try {
        const migrator = new Migrator(db, [...base(), ...fixtureMigrations]);
        await migrator.up();
        assert.deepEqual((await migrator.up()).applied, [], "a second up applies nothing");
        const reverted = await migrator.down(1);
        assert.deepEqual(reverted.applied, [{ version: 1002, name: "fixture_touch_trigger" }]);
        assert.deepEqual(
          (await migrator.status()).filter((m) => m.version > 1000).map((m) => m.state),
          ["applied", "pending"],
        );
        // A build that lacks 1001 sees it as unknown.
        const older = new Migrator(db, base());
        assert.deepEqual(
          (await older.status()).filter((m) => m.state !== "applied").map((m) => [m.version, m.state]),
          [[1001, "unknown"]],
        );
        await assert.rejects(older.down(1), /unknown to this build/);
        assert.throws(
          () => new Migrator(db, [fixtureMigrations[0] as Migration, fixtureMigrations[0] as Migration]),
          /share version/,
        );
      } finally {
        await close();
      }
    });
  });
}
