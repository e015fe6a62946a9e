import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Kysely } from "kysely";
import { type Database, openDatabase } from "../database/database.ts";
import { createLogger } from "../logging/logger.ts";
import { Migrator } from "../migrations/migrator.ts";
import { platformMigrations } from "../migrations/platform-migrations.ts";
import { JobService } from "./jobs.ts";
import { jobsMigrations } from "./migrations.ts";
import { wakeUpsFor } from "./wake-ups.ts";

describe("job service on the embedded database", () => {
  let database: Database;
  before(async () => {
    database = await openDatabase({ driver: "pglite", dataDir: null, statementTimeoutMs: 10_000 });
    await new Migrator(database.db as Kysely<any>, [...platformMigrations, ...jobsMigrations]).up();
  });
  after(async () => database?.close());

  it("claims only once the foreground is quiet, so requests go first on the one connection", async () => {
    let open!: () => void;
    let asked = 0;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const logger = createLogger("silent");
    const jobs = new JobService(database.db, wakeUpsFor(database, null, logger), logger, {
      graceMs: 1_000,
      quiet: () => {
        asked++;
        return gate;
      },
    });
    let ran = false;
    await jobs.enqueue(database.db, { queue: "quiet" });
    const stop = jobs.work("quiet", async () => {
      ran = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(asked > 0, "the worker asked for quiet");
    assert.equal(ran, false, "and claimed nothing meanwhile");
    open();
    const end = Date.now() + 5_000;
    while (!ran && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(ran);
    await stop();
    await jobs.stop();
  });
});
