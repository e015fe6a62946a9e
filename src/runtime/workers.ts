import { type StorageHygieneOptions, startStorageHygiene } from "../platform/database/storage-hygiene.ts";
import { startEmbeddingWorkers } from "../platform/embeddings/embedding-workers.ts";
import type { ModuleWorkerOptions, StrataModule } from "./module.ts";
import type { Platform } from "./platform.ts";

export interface WorkerOptions extends ModuleWorkerOptions {
  /** The embedded profile's VACUUM/CHECKPOINT schedule (tests and benchmarks shorten it). */
  storageHygiene?: StorageHygieneOptions;
}

/**
 * Starts the platform's own background work (the jobs table's pruning and,
 * on the embedded profile, the storage hygiene) and every module's workers;
 * the returned function stops them all, newest first.
 */
export async function startWorkers(
  platform: Platform,
  modules: readonly StrataModule[],
  options: WorkerOptions = {},
): Promise<() => Promise<void>> {
  if (platform.database.driver === "pglite") {
    // This process holds the data directory (its lock): a job still running was a dead process's.
    const released = await platform.jobs.releaseAbandoned();
    if (released > 0) platform.logger.info({ released }, "handed back jobs a previous process left running");
  }
  const stops: (() => Promise<void>)[] = [
    startStorageHygiene(
      platform.database,
      { jobs: platform.jobs, logger: platform.logger, registry: platform.metrics.registry },
      options.storageHygiene,
    ),
    // Committed changes go to the feed's history (a job per write's burst, the outbox's trigger enqueues it),
    // and each minute a sweep takes whatever a failed relay left.
    platform.jobs.recurring("changes.relay", "* * * * *", () => platform.changes.flush(), { catchUpMs: 60_000 }),
    // Finished jobs go after their keeping time (jobs.ts), hourly, once across all processes.
    platform.jobs.recurring("jobs.prune", "17 * * * *", () => platform.jobs.prune()),
    // Every module's searchable texts are embedded here, whichever module wrote them.
    await startEmbeddingWorkers(
      platform.vectors,
      platform.database.db,
      platform.jobs,
      platform.logger,
      platform.config.embeddingBackfill,
    ),
  ];
  const started: string[] = [];
  for (const module of modules) {
    if (!module.startWorkers) continue;
    stops.push(await module.startWorkers(platform, options.concurrency ? { concurrency: options.concurrency } : {}));
    started.push(module.name);
  }
  platform.logger.info({ modules: started }, "workers started");
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
