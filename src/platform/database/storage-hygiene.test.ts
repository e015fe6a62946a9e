import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type Kysely, sql } from "kysely";
import { Registry } from "prom-client";
import { JobService } from "../jobs/jobs.ts";
import { jobsMigrations } from "../jobs/migrations.ts";
import { wakeUpsFor } from "../jobs/wake-ups.ts";
import { createLogger } from "../logging/logger.ts";
import { Migrator } from "../migrations/migrator.ts";
import { platformMigrations } from "../migrations/platform-migrations.ts";
import { type Database, openDatabase } from "./database.ts";
import { existingSegmentBytes, NEW_WAL_SEGMENT_BYTES } from "./pglite-wal.ts";
import {
  runStorageHygiene,
  STORAGE_HYGIENE_QUEUE,
  type StorageHygieneReport,
  startStorageHygiene,
} from "./storage-hygiene.ts";

// A row of about 60 KB of poorly compressible text: each update leaves a dead
// copy in the TOAST table, as a large search entry did in `documents`.
function bigText(seed: number): string {
  let state = seed;
  const words: string[] = [];
  for (let i = 0; i < 9000; i++) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    words.push(state.toString(36));
  }
  return words.join(" ");
}

async function deadTuples(db: Database, table: string): Promise<number> {
  await sql`select pg_stat_force_next_flush()`.execute(db.db);
  const { rows } = await sql<{ dead: string }>`
    select (s.n_dead_tup + coalesce(t.n_dead_tup, 0))::text as dead
    from pg_stat_user_tables s join pg_class c on c.oid = s.relid
    left join pg_stat_all_tables t on t.relid = c.reltoastrelid
    where s.relname = ${table}`.execute(db.db);
  return Number(rows[0]?.dead ?? 0);
}

async function tableBytes(db: Database, table: string): Promise<number> {
  const { rows } = await sql<{
    bytes: string;
  }>`select pg_total_relation_size(${table}::regclass)::text as bytes`.execute(db.db);
  return Number(rows[0]?.bytes);
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const info = await stat(path.join(dir, name));
    if (info.isFile()) total += info.size;
  }
  return total;
}

describe("storage hygiene on the embedded profile", () => {
  let dir: string;
  let database: Database;
  const pgDir = () => path.join(dir, "pg");

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strata-hygiene-"));
    database = await openDatabase({ driver: "pglite", dataDir: pgDir(), statementTimeoutMs: 30_000 });
    await sql`create table notes (id int primary key, body text not null)`.execute(database.db);
    await sql`insert into notes values (1, ${bigText(0)}), (2, 'small')`.execute(database.db);
  });
  after(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("creates new data directories with 1 MB WAL segments", async () => {
    assert.equal(await existingSegmentBytes(pgDir()), NEW_WAL_SEGMENT_BYTES);
    const { rows } = await sql<{ min: string; max: string }>`
      select current_setting('min_wal_size') as min, current_setting('max_wal_size') as max`.execute(database.db);
    assert.deepEqual(rows[0], { min: "2MB", max: "4MB" });
  });

  it("vacuums tables past the dead-tuple threshold, which keeps a rewritten table at a bounded size, and recycles WAL", async () => {
    for (let i = 1; i <= 40; i++) await sql`update notes set body = ${bigText(i)} where id = 1`.execute(database.db);
    const dead = await deadTuples(database, "notes");
    assert.ok(dead > 50, `expected dead tuples after 40 rewrites, got ${dead}`);
    const walBefore = await dirBytes(path.join(pgDir(), "pg_wal"));
    assert.ok(walBefore > 4 * NEW_WAL_SEGMENT_BYTES, `WAL grows without checkpoints: ${walBefore}`);

    const report = await runStorageHygiene(database.db);
    assert.ok(report.vacuumed.includes("public.notes"), JSON.stringify(report));
    assert.equal(await deadTuples(database, "notes"), 0);
    // A checkpoint keeps at most max_wal_size (4 segments) plus the one in use.
    const walAfter = await dirBytes(path.join(pgDir(), "pg_wal"));
    assert.ok(walAfter <= 5 * NEW_WAL_SEGMENT_BYTES, `WAL after checkpoint: ${walAfter}`);

    // With a run after every 20 rewrites, the freed space is reused: 200 more
    // rewrites leave the table near its size after the first 40, far from the
    // 200 dead copies (about 12 MB) it would otherwise hold.
    const settled = await tableBytes(database, "notes");
    for (let i = 41; i <= 240; i++) {
      await sql`update notes set body = ${bigText(i)} where id = 1`.execute(database.db);
      if (i % 20 === 0) await runStorageHygiene(database.db);
    }
    const bounded = await tableBytes(database, "notes");
    assert.ok(bounded <= settled * 1.5 + 1_000_000, `table grew from ${settled} to ${bounded}`);
  });

  it("runs as a recurring job on its schedule, never overlapping itself, and stops cleanly", async () => {
    await new Migrator(database.db as Kysely<any>, [...platformMigrations, ...jobsMigrations]).up();
    const logger = createLogger("silent");
    const jobs = new JobService(database.db, wakeUpsFor(database, null, logger), logger, { graceMs: 5_000 });
    for (let i = 300; i < 330; i++) await sql`update notes set body = ${bigText(i)} where id = 1`.execute(database.db);
    // Each run's span, from its report: a run's onRun comes before the next run can start.
    const runs: { report: StorageHygieneReport; start: number; end: number }[] = [];
    const registry = new Registry();
    const stop = startStorageHygiene(
      database,
      { jobs, logger, registry },
      {
        schedule: "* * * * * *",
        onRun: (report) => {
          const end = performance.now();
          runs.push({ report, start: end - report.durationMs, end });
        },
      },
    );
    const until = async (done: () => boolean) => {
      const deadline = Date.now() + 30_000;
      while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    await until(() => runs.some((r) => r.report.vacuumed.includes("public.notes")));
    assert.ok(
      runs.some((r) => r.report.vacuumed.includes("public.notes")),
      "the schedule vacuumed the table with dead tuples",
    );
    assert.equal(await deadTuples(database, "notes"), 0);

    // Hold the one connection across three slots or more. The schedule's
    // enqueue for the first of them waits, and the slots after it are
    // skipped: one job for the hold, not one per slot all run on release.
    const before = runs.length;
    const hold = await database.db.transaction().execute(async () => {
      const start = new Date();
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      return { start, end: new Date() };
    });
    await until(() => runs.length > before);
    const duringHold = await database.db
      .selectFrom("jobs")
      .select("unique_key")
      .where("queue", "=", STORAGE_HYGIENE_QUEUE)
      .where("run_at", ">", hold.start)
      .where("run_at", "<", hold.end)
      .execute();
    assert.ok(duringHold.length <= 1, `${duringHold.length} slots of the hold enqueued`);
    await until(() => runs.length > before + 1);

    await stop();
    const runsAtStop = runs.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(runs.length, runsAtStop, "no run after stop()");
    await jobs.stop();

    for (let i = 1; i < runs.length; i++) {
      const [previous, run] = [runs[i - 1], runs[i]] as [(typeof runs)[0], (typeof runs)[0]];
      assert.ok(run.start >= previous.end, `run ${i} started before run ${i - 1} ended`);
    }
    // Every run was one slot's job, through the job service.
    const succeeded = await database.db
      .selectFrom("jobs")
      .select(["unique_key"])
      .where("queue", "=", STORAGE_HYGIENE_QUEUE)
      .where("status", "=", "succeeded")
      .execute();
    assert.equal(succeeded.length, runs.length);
    assert.equal(new Set(succeeded.map((j) => j.unique_key)).size, succeeded.length, "one run per slot");
    const metrics = await registry.getSingleMetricAsString("strata_storage_hygiene_runs_total");
    assert.match(metrics, new RegExp(`outcome="ok"} ${runs.length}\\b`));
  });
});

describe("storage hygiene on an in-memory database", () => {
  it("runs (initdb with small segments works without files)", async () => {
    const database = await openDatabase({ driver: "pglite", dataDir: null, statementTimeoutMs: 30_000 });
    try {
      const report = await runStorageHygiene(database.db);
      assert.ok(report.durationMs >= 0);
      const { rows } = await sql<{ size: string }>`select current_setting('wal_segment_size') as size`.execute(
        database.db,
      );
      assert.equal(rows[0]?.size, "1MB");
    } finally {
      await database.close();
    }
  });
});
