import { loadConfig } from "../../config/config.ts";
import { modules } from "../../modules/index.ts";
import { allMigrations } from "../../runtime/migrations.ts";
import { wireModules } from "../../runtime/module-wiring.ts";
import { openPlatform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { onShutdown } from "../shutdown.ts";

/** `strata worker`: the modules' background workers, without the HTTP API. */
export async function runWorker(options: { concurrency?: number } = {}) {
  const config = loadConfig();
  const platform = await openPlatform(config, { command: "strata worker", migrations: allMigrations(modules) });
  wireModules(platform, modules);
  const stop = await startWorkers(platform, modules, options);
  // Keep the process alive until a signal, even with no module workers yet.
  const keepAlive = setInterval(() => {}, 60_000);
  onShutdown(platform.logger, config.shutdownGraceMs, async () => {
    clearInterval(keepAlive);
    await stop();
    await platform.close();
  });
  platform.logger.info({ modules: modules.map((m) => m.name) }, "worker started");
}
