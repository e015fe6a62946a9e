import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import pg from "pg";
import { type Database, openDatabase } from "../../src/platform/database/database.ts";
import { DatabaseUnavailableError, isStatementTimeout } from "../../src/platform/database/sqlstate.ts";
import { databaseContract } from "../contract/database.contract.ts";
import { createScratchDatabase } from "../support/postgres.ts";

const scratch: { drop(): Promise<void> }[] = [];
async function scratchUrl() {
  const s = await createScratchDatabase();
  scratch.push(s);
  return s.url;
}
after(async () => {
  for (const s of scratch) await s.drop();
});

databaseContract("Postgres server", async () =>
  openDatabase({ driver: "postgres", url: await scratchUrl(), readUrl: null, poolMax: 5, statementTimeoutMs: 10_000 }),
);

describe("Postgres server: timeouts, retries and read pools", () => {
  let database: Database;
  let db: Kysely<any>;
  let adminUrl: string;
  before(async () => {
    adminUrl = await scratchUrl();
    database = await openDatabase({
      driver: "postgres",
      url: adminUrl,
      readUrl: null,
      poolMax: 1,
      statementTimeoutMs: 1_500,
    });
    db = database.db as Kysely<any>;
    await sql`create table marks (id serial primary key, note text)`.execute(db);
  });
  after(async () => {
    await database.close();
  });

  it("cancels a statement that runs past the configured timeout", async () => {
    await assert.rejects(sql`select pg_sleep(4)`.execute(db), (error: unknown) => isStatementTimeout(error));
    // The connection is still good afterwards.
    assert.equal((await sql<{ one: number }>`select 1 as one`.execute(db)).rows[0]?.one, 1);
  });

  /** Terminates a backend from another session, as a failover or server restart would. */
  async function terminate(pid: number, afterMs = 0) {
    await new Promise((resolve) => setTimeout(resolve, afterMs));
    // A connection of its own: the pool's one connection is busy with the statement under test.
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query("select pg_terminate_backend($1)", [pid]);
    } finally {
      await admin.end();
    }
  }

  async function pooledPid(): Promise<number> {
    const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db);
    return rows[0]?.pid as number;
  }

  it("retries a read whose connection drops mid-query", async () => {
    const pid = await pooledPid();
    const [rows] = await Promise.all([
      db.selectFrom(sql`pg_sleep(0.5)`.as("s")).crossJoin("marks").selectAll("marks").execute(),
      terminate(pid, 150),
    ]);
    assert.deepEqual(rows, []);
    assert.notEqual(await pooledPid(), pid, "a fresh connection replaced the dropped one");
  });

  it("does not retry a write whose connection drops mid-statement; reports the outage instead", async () => {
    const pid = await pooledPid();
    await Promise.all([
      assert.rejects(
        db.insertInto("marks").columns(["note"]).expression(sql`select 'once' from pg_sleep(0.5)`).execute(),
        DatabaseUnavailableError,
      ),
      terminate(pid, 150),
    ]);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from marks`.execute(db);
    assert.equal(rows[0]?.n, 0, "the killed write did not happen, and was not replayed");
  });

  it("survives a connection dropped between statements of a transaction", async () => {
    await assert.rejects(
      db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await terminate(rows[0]?.pid as number, 0);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await trx.insertInto("marks").values({ note: "lost" }).execute();
      }),
      DatabaseUnavailableError,
    );
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from marks`.execute(db);
    assert.equal(rows[0]?.n, 0);
  });

  it("fails fast with DatabaseUnavailableError when the server cannot be reached", async () => {
    const unreachable = await openDatabase({
      driver: "postgres",
      url: "postgres://postgres@127.0.0.1:1/none",
      readUrl: null,
      poolMax: 1,
      statementTimeoutMs: 1_000,
    });
    try {
      await assert.rejects(unreachable.ping(), DatabaseUnavailableError);
    } finally {
      await unreachable.close();
    }
  });

  it("serves lag-tolerant reads from DATABASE_READ_URL", async () => {
    const primaryUrl = await scratchUrl();
    const readUrl = await scratchUrl();
    // Two different databases make the routing visible: a real replica would hold the same rows.
    for (const [url, label] of [
      [primaryUrl, "primary"],
      [readUrl, "replica"],
    ] as const) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query("create table whoami (label text)");
      await c.query("insert into whoami values ($1)", [label]);
      await c.end();
    }
    const routed = await openDatabase({
      driver: "postgres",
      url: primaryUrl,
      readUrl,
      poolMax: 2,
      statementTimeoutMs: 5_000,
    });
    try {
      const fromRead = await (routed.read as Kysely<any>).selectFrom("whoami").select("label").executeTakeFirst();
      const fromPrimary = await (routed.db as Kysely<any>).selectFrom("whoami").select("label").executeTakeFirst();
      assert.equal(fromRead?.label, "replica");
      assert.equal(fromPrimary?.label, "primary");
      assert.ok(routed.pools().read, "the read pool is reported");
    } finally {
      await routed.close();
    }
  });
});
