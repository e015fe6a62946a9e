import { migrationsContract } from "../../../test/contract/migrations.contract.ts";
import { openDatabase } from "../database/database.ts";

migrationsContract("PGlite", async () => {
  const database = await openDatabase({ driver: "pglite", dataDir: null, statementTimeoutMs: 10_000 });
  return { db: database.db, close: () => database.close() };
});
