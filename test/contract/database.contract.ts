import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import type { Database } from "../../src/platform/database/database.ts";
import { afterTransaction, transaction } from "../../src/platform/database/transaction.ts";
import { Migrator } from "../../src/platform/migrations/migrator.ts";
import { platformMigrations } from "../../src/platform/migrations/platform-migrations.ts";

/**
 * The SQL layer's contract: the same typed queries behave the same on PGlite
 * and on the Postgres server. `open` returns an empty database.
 */
export function databaseContract(name: string, open: () => Promise<Database>) {
  describe(`SQL layer contract: ${name}`, () => {
    let database: Database;
    let db: Kysely<any>;
    before(async () => {
      database = await open();
      db = database.db as Kysely<any>;
      await new Migrator(db, platformMigrations).up();
      await sql`create table items (
        id serial primary key, owner text not null, n int8 not null default 0,
        data jsonb, at timestamptz not null default now(), unique (owner, n))`.execute(db);
    });
    after(async () => {
      await database.close();
    });

    it("runs typed queries and returns the same shapes", async () => {
      const at = new Date("2026-01-02T03:04:05.678Z");
      const inserted = await db
        .insertInto("items")
        .values({ owner: "a", n: "9007199254740993", data: JSON.stringify({ tags: ["x"], nested: { ok: true } }), at })
        .returningAll()
        .executeTakeFirstOrThrow();
      assert.equal(inserted.n, "9007199254740993", "int8 comes back as a string, without precision loss");
      assert.deepEqual(inserted.data, { tags: ["x"], nested: { ok: true } });
      assert.ok(inserted.at instanceof Date);
      assert.equal(inserted.at.toISOString(), at.toISOString());
      const count = await db.selectFrom("items").select(db.fn.countAll().as("c")).executeTakeFirstOrThrow();
      assert.equal(count.c, "1");
      const updated = await db
        .updateTable("items")
        .set({ owner: "b" })
        .where("id", "=", inserted.id)
        .executeTakeFirst();
      assert.equal(updated.numUpdatedRows, 1n);
    });

    it("commits a transaction scope, and rolls it back on error", async () => {
      await transaction(db, async (trx) => {
        await trx.insertInto("items").values({ owner: "tx", n: 1 }).execute();
      });
      await assert.rejects(
        transaction(db, async (trx) => {
          await trx.insertInto("items").values({ owner: "tx", n: 2 }).execute();
          throw new Error("abort");
        }),
        /abort/,
      );
      const rows = await db.selectFrom("items").select("n").where("owner", "=", "tx").execute();
      assert.deepEqual(
        rows.map((r) => r.n),
        ["1"],
      );
    });

    it("nests scopes with savepoints: an inner failure rolls back alone", async () => {
      await transaction(db, async (trx) => {
        await trx.insertInto("items").values({ owner: "nest", n: 1 }).execute();
        await assert.rejects(
          transaction(trx, async (inner) => {
            await inner.insertInto("items").values({ owner: "nest", n: 2 }).execute();
            // a constraint violation inside the savepoint
            await inner.insertInto("items").values({ owner: "nest", n: 1 }).execute();
          }),
          (e: unknown) => (e as { code?: string }).code === "23505",
        );
        await trx.insertInto("items").values({ owner: "nest", n: 3 }).execute();
      });
      const rows = await db.selectFrom("items").select("n").where("owner", "=", "nest").orderBy("n").execute();
      assert.deepEqual(
        rows.map((r) => r.n),
        ["1", "3"],
      );
    });

    it("isolates concurrent transactions: uncommitted writes are invisible outside", async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let inserted!: () => void;
      const insertedSignal = new Promise<void>((resolve) => {
        inserted = resolve;
      });
      const writer = transaction(db, async (trx) => {
        await trx.insertInto("items").values({ owner: "iso", n: 1 }).execute();
        inserted();
        await gate;
      });
      await insertedSignal;
      // PGlite serializes callers on its one connection, so this read waits
      // for the writer; on a server it runs beside it. Either way it must not
      // see an uncommitted row.
      const reader = db.selectFrom("items").select("n").where("owner", "=", "iso").execute();
      const raced = await Promise.race([reader.then((rows) => rows.length), delay(100).then(() => "waiting")]);
      assert.ok(raced === 0 || raced === "waiting", `reader saw ${raced}`);
      release();
      await writer;
      assert.equal((await db.selectFrom("items").select("n").where("owner", "=", "iso").execute()).length, 1);
    });

    it("runs after-transaction callbacks once the outermost transaction has committed or rolled back", async () => {
      const seen: string[] = [];
      const count = async () =>
        (await db.selectFrom("items").select("n").where("owner", "=", "after").execute()).length;
      await transaction(db, async (trx) => {
        await trx.insertInto("items").values({ owner: "after", n: 1 }).execute();
        await transaction(trx, async (inner) => {
          afterTransaction(inner, async () => void seen.push(`nested, committed rows: ${await count()}`));
        });
        assert.deepEqual(seen, [], "not when the savepoint is released");
      });
      assert.deepEqual(seen, ["nested, committed rows: 1"], "after COMMIT, before transaction() returned");
      await assert.rejects(
        transaction(db, async (trx) => {
          afterTransaction(trx, async () => void seen.push("rolled back"));
          throw new Error("abort");
        }),
        /abort/,
      );
      assert.equal(seen.at(-1), "rolled back", "a rollback runs them too, and the transaction's error is thrown");
      let attempts = 0;
      await transaction(
        db,
        async (trx) => {
          attempts++;
          afterTransaction(trx, async () => void seen.push(`attempt ${attempts}`));
          if (attempts === 1) throw Object.assign(new Error("could not serialize access"), { code: "40001" });
        },
        { retryConflicts: 1 },
      );
      assert.deepEqual(seen.slice(-2), ["attempt 1", "attempt 2"], "each attempt's own, as it ends");
      await db.transaction().execute(async (trx) => {
        assert.throws(() => afterTransaction(trx, async () => {}), /opened by transaction\(\)/);
      });
    });

    it("retries a transaction on a serialization conflict when asked", async () => {
      let attempts = 0;
      await transaction(
        db,
        async (trx) => {
          attempts++;
          if (attempts === 1) {
            const error = Object.assign(new Error("could not serialize access"), { code: "40001" });
            throw error;
          }
          await trx.insertInto("items").values({ owner: "retry", n: 1 }).execute();
        },
        { retryConflicts: 2 },
      );
      assert.equal(attempts, 2);
    });

    it("loads pg_trgm, and pgvector where the server has it", async () => {
      const { rows } = await sql<{ s: number }>`select similarity('strata', 'strato') as s`.execute(db);
      assert.ok(Number(rows[0]?.s) > 0.3);
      const vector = await sql<{
        n: number;
      }>`select count(*)::int as n from pg_extension where extname = 'vector'`.execute(db);
      if (database.driver === "pglite") {
        assert.equal(vector.rows[0]?.n, 1, "the embedded profile always ships pgvector");
        const d = await sql<{ d: number }>`select '[1,2,3]'::vector <-> '[1,2,5]'::vector as d`.execute(db);
        assert.equal(Number(d.rows[0]?.d), 2);
      }
      // Every connection carries the HNSW settings filtered and hybrid vector queries rely on.
      const settings = await sql<{ ef: string; scan: string }>`
        select current_setting('hnsw.ef_search', true) as ef, current_setting('hnsw.iterative_scan', true) as scan`.execute(
        db,
      );
      assert.deepEqual(settings.rows[0], { ef: "100", scan: "relaxed_order" });
    });

    it("reports errors with their SQLSTATE", async () => {
      await assert.rejects(sql`select 1/0`.execute(db), (e: unknown) => (e as { code?: string }).code === "22012");
      await assert.rejects(
        sql`select * from no_such_table`.execute(db),
        (e: unknown) => (e as { code?: string }).code === "42P01",
      );
    });

    it("pings and reports pool usage", async () => {
      assert.ok((await database.ping()) >= 0);
      const pools = database.pools();
      assert.ok(pools.primary.total >= 1);
      assert.equal(pools.primary.waiting, 0);
    });
  });
}

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
