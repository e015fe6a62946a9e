import type { StrataModule } from "../../runtime/module.ts";
import { startHistoryMigration } from "./history-migration.ts";
import { runWritingMaintenance } from "./maintenance.ts";
import { writingMigrations } from "./migrations.ts";
import { registerWritingRoutes } from "./routes.ts";
import { transferDocuments } from "./transfer.ts";

const MAINTENANCE_INTERVAL_MS = 60_000;

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
  startWorkers(platform) {
    let running: Promise<unknown> | null = null;
    const timer = setInterval(() => {
      if (running) return;
      running = runWritingMaintenance(platform)
        .catch((error) => platform.logger.error({ err: error }, "writing maintenance failed"))
        .finally(() => {
          running = null;
        });
    }, MAINTENANCE_INTERVAL_MS);
    timer.unref();
    // Converts histories still in the earlier form; a no-op once finished.
    const stopMigration = startHistoryMigration(platform, {
      batchSize: platform.config.writing.historyMigrationBatch,
      pauseMs: platform.config.writing.historyMigrationPauseMs,
    });
    return async () => {
      clearInterval(timer);
      await stopMigration();
      await running;
    };
  },
};
