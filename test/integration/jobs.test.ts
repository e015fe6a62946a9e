import { after } from "node:test";
import { openDatabase } from "../../src/platform/database/database.ts";
import { JobService } from "../../src/platform/jobs/jobs.ts";
import { wakeUpsFor } from "../../src/platform/jobs/wake-ups.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { jobsContract } from "../contract/jobs.contract.ts";
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
