import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { modules } from "../../src/modules/index.ts";
import { openDatabase } from "../../src/platform/database/database.ts";
import { Migrator } from "../../src/platform/migrations/migrator.ts";
import { allMigrations } from "../../src/runtime/migrations.ts";
import { fixtureMigrations, migrationsContract } from "../contract/migrations.contract.ts";
import { createScratchDatabase } from "../support/postgres.ts";

const scratch: { drop(): Promise<void> }[] = [];
after(async () => {
  for (const s of scratch) await s.drop();
});

async function freshServerDatabase() {
  const s = await createScratchDatabase();
  scratch.push(s);
  const database = await openDatabase({
    driver: "postgres",
    url: s.url,
    readUrl: null,
    poolMax: 4,
    statementTimeoutMs: 10_000,
  });
  return { db: database.db, close: () => database.close() };
}

migrationsContract("Postgres server", freshServerDatabase);

describe("migrations: concurrency on the Postgres server", () => {
  let url: string;
  before(async () => {
    const s = await createScratchDatabase();
    scratch.push(s);
    url = s.url;
  });

  it("lets only one of several processes migrate at a time", async () => {
    // Three independent pools stand in for three processes starting together.
    const databases = await Promise.all(
      [1, 2, 3].map(() =>
        openDatabase({ driver: "postgres", url, readUrl: null, poolMax: 2, statementTimeoutMs: 10_000 }),
      ),
    );
    try {
      const history = [...allMigrations(modules), ...fixtureMigrations];
      const runs = await Promise.all(databases.map((d) => new Migrator(d.db, history).up()));
      const applied = runs.flatMap((r) => r.applied.map((m) => m.version)).sort((a, b) => a - b);
      assert.deepEqual(
        applied,
        history.map((m) => m.version),
        "each migration applied exactly once across all processes",
      );
      const status = await new Migrator(databases[0]!.db, history).status();
      assert.ok(status.every((m) => m.state === "applied"));
    } finally {
      for (const d of databases) await d.close();
    }
  });
});
