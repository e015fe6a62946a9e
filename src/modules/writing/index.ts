import type { StrataModule } from "../../runtime/module.ts";
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
    return async () => {
      clearInterval(timer);
      await running;
    };
  },
};
