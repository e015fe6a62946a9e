import { Command } from "commander";
import { loadConfig } from "../../config/config.ts";
import { buildServer } from "../../http/server.ts";
import { modules } from "../../modules/index.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import { openPlatform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { onShutdown } from "../shutdown.ts";

export function serveCommand() {
  return new Command("serve")
    .description("Serve the HTTP API. Embedded: also migrates, and runs the workers and scheduler in this process.")
    .option("--no-workers", "do not run workers in this process (server profile: run `strata worker` instead)")
    .action(async (options: { workers: boolean }) => {
      const startedAt = performance.now();
      const config = loadConfig();
      const platform = await openPlatform(config);
      const { logger } = platform;
      const embedded = config.database.driver === "pglite";
      if (embedded) {
        // One process owns the embedded database, so it migrates on start. On
        // a server, migrations are a deliberate step: `strata migrate up`.
        const run = await createMigrator(platform.database, modules).up();
        if (run.applied.length > 0) logger.info({ applied: run.applied }, "migrations applied");
      }
      const app = await buildServer(platform, modules);
      const stopWorkers = embedded && options.workers ? await startWorkers(platform, modules) : async () => {};
      onShutdown(logger, config.shutdownGraceMs, async () => {
        await app.close();
        await stopWorkers();
        await platform.close();
      });
      await app.listen({ port: config.http.port, host: config.http.host });
      const address = app.server.address();
      const port = typeof address === "object" && address ? address.port : config.http.port;
      const where = embedded ? `data in ${config.dataDir}` : `${config.profile} profile`;
      process.stdout.write(
        `Strata ${config.profile} listening on http://${displayHost(config.http.host)}:${port} (${where}); ` +
          `ready in ${Math.round(performance.now() - startedAt)} ms\n`,
      );
    });
}

function displayHost(host: string) {
  return host === "0.0.0.0" || host === "::" ? "localhost" : host;
}
