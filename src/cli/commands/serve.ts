import { Command } from "commander";
import { loadConfig } from "../../config/config.ts";
import { buildServer } from "../../http/server.ts";
import { modules } from "../../modules/index.ts";
import { allMigrations, createMigrator } from "../../runtime/migrations.ts";
import { openPlatform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { onShutdown } from "../shutdown.ts";

/** The server could not bind its address; names it and the reason (EADDRINUSE, EACCES). */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException)?.code;
    const reason =
      code === "EADDRINUSE"
        ? "the port is in use by another process (choose another with PORT, or 0 for any free one)"
        : ((cause as Error)?.message ?? String(cause));
    super(`cannot listen on ${address}: ${reason}`, { cause });
    this.name = "ListenError";
  }
}

export function serveCommand() {
  return new Command("serve")
    .description("Serve the HTTP API. Embedded: also migrates, and runs the workers and scheduler in this process.")
    .option("--no-workers", "do not run workers in this process (server profile: run `strata worker` instead)")
    .action(async (options: { workers: boolean }) => {
      const startedAt = performance.now();
      const config = loadConfig();
      const migrations = allMigrations(modules);
      const platform = await openPlatform(config, { command: "strata serve", migrations });
      const { logger } = platform;
      // Filled in as parts start, so a signal at any point stops what runs.
      const stops: (() => Promise<void>)[] = [() => platform.close()];
      onShutdown(logger, config.shutdownGraceMs, async () => {
        for (const stop of stops.reverse()) await stop();
      });
      const embedded = config.database.driver === "pglite";
      if (embedded) {
        // One process owns the embedded database, so it migrates on start. On
        // a server, migrations are a deliberate step: `strata migrate up`.
        const run = await createMigrator(platform.database, modules).up();
        if (run.applied.length > 0) logger.info({ applied: run.applied }, "migrations applied");
      }
      const app = await buildServer(platform, modules);
      const address = `${config.http.host}:${config.http.port}`;
      try {
        await app.listen({ port: config.http.port, host: config.http.host });
      } catch (error) {
        await app.close().catch(() => {});
        await platform.close();
        throw new ListenError(address, error);
      }
      stops.push(() => app.close());
      // Workers start only once the server listens: a process that cannot
      // serve exits before it has run any background work.
      if (embedded && options.workers) stops.push(await startWorkers(platform, modules));
      const bound = app.server.address();
      const port = typeof bound === "object" && bound ? bound.port : config.http.port;
      const url = `http://${displayHost(config.http.host)}:${port}`;
      const where = embedded ? `data in ${config.dataDir}` : `${config.profile} profile`;
      process.stdout.write(
        `Strata ${config.profile} listening on ${url} (${where}); API docs at ${url}/docs; ` +
          `ready in ${Math.round(performance.now() - startedAt)} ms\n`,
      );
    });
}

function displayHost(host: string) {
  return host === "0.0.0.0" || host === "::" ? "localhost" : host;
}
