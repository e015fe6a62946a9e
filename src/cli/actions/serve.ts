import { loadConfig } from "../../config/config.ts";
import { modules } from "../../modules/index.ts";
import { allMigrations, createMigrator } from "../../runtime/migrations.ts";
import { wireModules } from "../../runtime/module-wiring.ts";
import { openPlatform, type Platform } from "../../runtime/platform.ts";
import { startWorkers } from "../../runtime/workers.ts";
import { ListenError } from "../listen-error.ts";
import { onShutdown } from "../shutdown.ts";

/** `strata serve`: open the platform, migrate (embedded), listen, then start the workers. */
export async function serve(options: { workers?: boolean }) {
  const startedAt = performance.now();
  const config = loadConfig();
  // The HTTP layer (Fastify, its plugins, every route's module) loads while
  // PGlite opens: module loading waits on file reads, PGlite on its own
  // start, and each fills the other's gaps.
  const [platform, { buildServer }] = await Promise.all([
    openPlatform(config, { command: "strata serve", migrations: allMigrations(modules) }),
    import("../../http/server.ts"),
  ]);
  const { logger } = platform;
  // Filled in as parts start, so a signal at any point stops what runs.
  const stops: (() => Promise<void>)[] = [() => platform.close()];
  onShutdown(logger, config.shutdownGraceMs, async () => {
    for (const stop of stops.reverse()) await stop();
  });
  const embedded = config.database.driver === "pglite";
  if (embedded) {
    // One process owns the embedded database, so it migrates on start (a
    // no-op on a directory made from the build's image). On a server,
    // migrations are a deliberate step: `strata migrate up`.
    const run = await createMigrator(platform.database, modules).up();
    if (run.applied.length > 0) logger.info({ applied: run.applied }, "migrations applied");
  }
  wireModules(platform, modules);
  const app = await buildServer(platform, modules);
  try {
    await app.listen({ port: config.http.port, host: config.http.host });
  } catch (error) {
    await app.close().catch(() => {});
    await platform.close();
    throw new ListenError(`${config.http.host}:${config.http.port}`, error);
  }
  stops.push(() => app.close());
  // Workers start only once the server listens: a process that cannot serve
  // exits before it has run any background work. Embedded, the server is
  // the one process and runs them; on a server they run in `strata worker`
  // processes, or here too when asked (--workers): the job service runs
  // each item once whichever processes are up.
  if (options.workers ?? embedded) stops.push(startWorkersSoon(embedded ? WORKER_START_DELAY_MS : 0, platform));
  const bound = app.server.address();
  const port = typeof bound === "object" && bound ? bound.port : config.http.port;
  const url = `http://${displayHost(config.http.host)}:${port}`;
  const where = embedded ? `data in ${config.dataDir}` : `${config.profile} profile`;
  process.stdout.write(
    `Strata ${config.profile} listening on ${url} (${where}); API docs at ${url}/docs; ` +
      `ready in ${Math.round(performance.now() - startedAt)} ms\n`,
  );
}

/**
 * Embedded, the workers' start-up statements (handing back a dead process's
 * jobs, scheduling, the first claims) share the one database connection
 * with requests: started a moment after the server listens, they leave the
 * first requests (a health check, a page load) unqueued.
 */
const WORKER_START_DELAY_MS = 250;

/** Starts the workers after `delayMs`; the returned stop also covers a stop before they started. */
function startWorkersSoon(delayMs: number, platform: Platform): () => Promise<void> {
  let cancelled = false;
  let stopWorkers: (() => Promise<void>) | null = null;
  let timer: NodeJS.Timeout | undefined;
  let wake = () => {};
  const started = new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, delayMs);
  })
    .then(async () => {
      if (!cancelled) stopWorkers = await startWorkers(platform, modules);
    })
    .catch((error) => platform.logger.error({ err: error }, "the workers did not start"));
  return async () => {
    cancelled = true;
    clearTimeout(timer);
    wake();
    await started;
    await stopWorkers?.();
  };
}

function displayHost(host: string) {
  return host === "0.0.0.0" || host === "::" ? "localhost" : host;
}
