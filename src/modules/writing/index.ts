import type { StrataModule } from "../../runtime/module.ts";
import type { Platform } from "../../runtime/platform.ts";
import { startHistoryMigration } from "./history-migration.ts";
import { runWritingMaintenance } from "./maintenance.ts";
import { writingMigrations } from "./migrations.ts";
import { registerWritingRoutes } from "./routes.ts";
import { reindexPendingSearch, SEARCH_SWEEP_INTERVAL_MS } from "./search-reindex.ts";
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
    const stops = [
      every(platform, "writing maintenance", MAINTENANCE_INTERVAL_MS, () => runWritingMaintenance(platform)),
      every(platform, "search reindex", SEARCH_SWEEP_INTERVAL_MS, () => reindexPendingSearch(platform)),
      // Converts histories still in the earlier form; a no-op once finished.
      startHistoryMigration(platform, {
        batchSize: platform.config.writing.historyMigrationBatch,
        pauseMs: platform.config.writing.historyMigrationPauseMs,
      }),
    ];
    return async () => {
      for (const stop of stops) await stop();
    };
  },
};

/** Runs `task` every `intervalMs`, skipping a tick while the last run is still going; stop() waits for it. */
function every(platform: Platform, what: string, intervalMs: number, task: () => Promise<unknown>) {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch((error) => platform.logger.error({ err: error }, `${what} failed`))
      .finally(() => {
        running = null;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
