import { jobsContract } from "../../../test/contract/jobs.contract.ts";
import { openDatabase } from "../database/database.ts";
import { createLogger } from "../logging/logger.ts";
import { JobService } from "./jobs.ts";
import { wakeUpsFor } from "./wake-ups.ts";

jobsContract(
  "PGlite",
  () => openDatabase({ driver: "pglite", dataDir: null, statementTimeoutMs: 10_000 }),
  (database, graceMs) => {
    const logger = createLogger("silent");
    return new JobService(database.db, wakeUpsFor(database, null, logger), logger, { graceMs });
  },
);
