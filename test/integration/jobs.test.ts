import { after, describe, it } from "node:test";
import { sql } from "kysely";
import { openDatabase } from "../../src/platform/database/database.ts";
import { JobService } from "../../src/platform/jobs/jobs.ts";
import { jobsMigrations } from "../../src/platform/jobs/migrations.ts";
import { wakeUpsFor } from "../../src/platform/jobs/wake-ups.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { Migrator } from "../../src/platform/migrations/migrator.ts";
import { platformMigrations } from "../../src/platform/migrations/platform-migrations.ts";
import { jobsContract } from "../contract/jobs.contract.ts";
import { until } from "../support/eventually.ts";
import { createScratchDatabase } from "../support/postgres.ts";

const scratch: { drop(): Promise<void> }[] = [];
let url = "";
after(async () => {
  for (const s of scratch) await s.drop();
});

jobsContract(
  "Postgres server",
  async () => {
    const s = await createScratchDatabase();
    scratch.push(s);
    url = s.url;
    return openDatabase({ driver: "postgres", url, readUrl: null, poolMax: 8, statementTimeoutMs: 10_000 });
  },
  (database, graceMs) => {
    const logger = createLogger("silent");
    // LISTEN on a connection of its own, as the server profile runs it.
    return new JobService(database.db, wakeUpsFor(database, url, logger), logger, { graceMs });
  },
);

describe("job wake-ups on the Postgres server", () => {
  it("listens again after its connection is killed, and workers wake without their fallback timer", async () => {
    const s = await createScratchDatabase();
    scratch.push(s);
    const database = await openDatabase({
      driver: "postgres",
      url: s.url,
      readUrl: null,
      poolMax: 4,
      statementTimeoutMs: 10_000,
    });
    await new Migrator(database.db, [...platformMigrations, ...jobsMigrations]).up();
    const logger = createLogger("silent");
    const jobs = new JobService(database.db, wakeUpsFor(database, s.url, logger), logger, { graceMs: 1_000 });
    const done: string[] = [];
    // An idle wait far longer than the test: only a wake-up can start the job.
    const stop = jobs.work(
      "wake",
      async ({ job }) => {
        done.push(job.id);
      },
      { idleMs: 600_000 },
    );
    const listening = () =>
      sql<{
        pid: number;
      }>`select pid from pg_stat_activity where application_name = 'strata jobs listener' and datname = current_database()`.execute(
        database.db,
      );
    try {
      await until(async () => (await listening()).rows.length === 1);
      const first = await jobs.enqueue(database.db, { queue: "wake" });
      await until(async () => done.includes(first as string));
      // Kill the listener's backend, as a failover or an idle-session timeout would.
      const [{ pid }] = (await listening()).rows as [{ pid: number }];
      await sql`select pg_terminate_backend(${pid})`.execute(database.db);
      await until(async () => {
        const rows = (await listening()).rows;
        return rows.length === 1 && rows[0]?.pid !== pid;
      }, 20_000);
      const second = await jobs.enqueue(database.db, { queue: "wake" });
      await until(async () => done.includes(second as string), 10_000);
    } finally {
      await stop();
      await jobs.close();
      await database.close();
    }
  });
});
