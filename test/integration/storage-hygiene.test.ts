import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { STORAGE_HYGIENE_QUEUE, type StorageHygieneReport } from "../../src/platform/database/storage-hygiene.ts";
import { createMigrator } from "../../src/runtime/migrations.ts";
import type { Platform } from "../../src/runtime/platform.ts";
import { startWorkers } from "../../src/runtime/workers.ts";
import { openTestPlatform } from "../support/embedded.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { TEST_SIGNING_SECRET } from "../support/services.ts";

describe("storage hygiene on the server profile", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let platform: Platform;
  let dispose: () => Promise<void>;

  before(async () => {
    scratch = await createScratchDatabase();
    const opened = await openTestPlatform({ DATABASE_URL: scratch.url, STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET });
    platform = opened.platform;
    dispose = opened.dispose;
    await createMigrator(platform.database, []).up();
  });
  after(async () => {
    await dispose?.();
    await scratch?.drop();
  });

  it("never runs: Postgres's own autovacuum and checkpointer do this there", async () => {
    const db = platform.database.db;
    await sql`create table churn (id int primary key, body text)`.execute(db);
    await sql`insert into churn select g, repeat('x', 200) from generate_series(1, 500) g`.execute(db);
    await sql`update churn set body = repeat('y', 200)`.execute(db);
    const reports: StorageHygieneReport[] = [];
    const stop = await startWorkers(platform, [], {
      storageHygiene: { schedule: "* * * * * *", onRun: (report) => reports.push(report) },
    });
    // Past two slots of the every-second schedule it would have on the embedded profile.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    await stop();
    assert.equal(reports.length, 0);
    const scheduled = await platform.database.db
      .selectFrom("jobs")
      .select("id")
      .where("queue", "=", STORAGE_HYGIENE_QUEUE)
      .execute();
    assert.deepEqual(scheduled, [], "not even scheduled");
    const { rows } = await sql<{ last_vacuum: Date | null }>`
      select last_vacuum from pg_stat_user_tables where relname = 'churn'`.execute(db);
    assert.equal(rows[0]?.last_vacuum ?? null, null, "no manual VACUUM was run");
    assert.equal(platform.metrics.registry.getSingleMetric("strata_storage_hygiene_runs_total"), undefined);
  });
});

describe("storage hygiene with the workers on the embedded profile", () => {
  it("runs as the recurring job startWorkers starts, and stops with them", async () => {
    const { platform, dispose } = await openTestPlatform();
    try {
      await createMigrator(platform.database, []).up();
      const reports: StorageHygieneReport[] = [];
      const stop = await startWorkers(platform, [], {
        storageHygiene: { schedule: "* * * * * *", onRun: (report) => reports.push(report) },
      });
      const deadline = Date.now() + 30_000;
      while (reports.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      await stop();
      assert.ok(reports.length >= 2, `${reports.length} runs`);
      const succeeded = await platform.database.db
        .selectFrom("jobs")
        .select("id")
        .where("queue", "=", STORAGE_HYGIENE_QUEUE)
        .where("status", "=", "succeeded")
        .execute();
      assert.equal(succeeded.length, reports.length);
      const metrics = await platform.metrics.registry.getSingleMetricAsString("strata_storage_hygiene_runs_total");
      assert.match(metrics, new RegExp(`outcome="ok"} ${reports.length}\\b`));
    } finally {
      await dispose();
    }
  });
});
