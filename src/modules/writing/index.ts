import type { StrataModule } from "../../runtime/module.ts";
import { startHistoryMigration } from "./history-migration.ts";
import { runWritingMaintenance } from "./maintenance.ts";
import { writingMigrations } from "./migrations.ts";
import { registerWritingRoutes } from "./routes.ts";
import { reindexPendingSearch, SEARCH_SWEEP_SCHEDULE } from "./search-reindex.ts";
import { documentSearch } from "./search-source.ts";
import { transferDocuments } from "./transfer.ts";

/**
 * The writing module: seed 000's AI writing-enhancement platform. Documents
 * with differential version history, AI suggestions from prompt templates,
 * search, and the seed's lifecycle rules.
 */
export const writingModule: StrataModule = {
  name: "writing",
  migrations: writingMigrations,
  routes: registerWritingRoutes,
  ownershipTransfer: transferDocuments,
  search: { embeddings: [], sources: [documentSearch] },
  async startWorkers(platform) {
    // Converts histories still in the earlier form, as one job; nothing once finished.
    // Started first: it reads the database, and a failure here leaves nothing running.
    const stopMigration = await startHistoryMigration(platform, {
      batchSize: platform.config.writing.historyMigrationBatch,
      pauseMs: platform.config.writing.historyMigrationPauseMs,
    });
    // Recurring work runs as jobs, so each slot runs once whichever processes are up.
    const stops = [
      stopMigration,
      platform.jobs.recurring("writing.maintenance", platform.config.writing.maintenanceCron, () =>
        runWritingMaintenance(platform),
      ),
      // A missed sweep needs no catching up beyond the last minute: the next one takes what is queued.
      platform.jobs.recurring("writing.search_sweep", SEARCH_SWEEP_SCHEDULE, () => reindexPendingSearch(platform), {
        catchUpMs: 60_000,
      }),
    ];
    return async () => {
      for (const stop of stops) await stop();
    };
  },
};
