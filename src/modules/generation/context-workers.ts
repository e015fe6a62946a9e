import type { Platform } from "../../runtime/platform.ts";
import { BatchEndChecks } from "./batch-end-checks.ts";
import { processContext } from "./context-processing.ts";
import { CONTEXT_QUEUE } from "./context-queue.ts";
import { CONTEXT_CLAIMS } from "./context-writes.ts";
import { WorkerPresence } from "./worker-presence.ts";

/**
 * Starts this process's context workers: `concurrency` contexts at once,
 * claimed from the job queue in the seed's polling order, with the worker's
 * heartbeat kept in the KV store while it runs. The returned function stops
 * claiming, lets running contexts finish within SHUTDOWN_GRACE_MS (then
 * hands them back), and removes the heartbeat.
 */
export async function startContextWorkers(platform: Platform, concurrency: number): Promise<() => Promise<void>> {
  const presence = new WorkerPresence(platform.kv, platform.jobs.workerId, concurrency, platform.logger);
  await presence.start();
  const batchEnds = new BatchEndChecks(platform.database.db, platform.logger);
  const stopWork = platform.jobs.work(CONTEXT_QUEUE, (job) => processContext(platform, { presence, batchEnds }, job), {
    concurrency,
    batchSize: concurrency,
    leaseMs: platform.config.generation.leaseMs,
    claimWith: CONTEXT_CLAIMS,
  });
  return async () => {
    await stopWork();
    await presence.stop();
    await batchEnds.flush();
  };
}
