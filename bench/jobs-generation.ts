/**
 * The generation figure of the jobs bench: seed 001's contexts processed per
 * second through a no-op pipeline (one transformer over nothing: no AI call,
 * it returns at once), with 1, 4 and 16 workers in one process, on the same
 * platform the job service is measured on (the Postgres server with Redis
 * for the seed's structures, or PGlite with the in-process store). Each
 * context keeps everything the seed asks of it: its job's lease, the
 * worker_lock and heartbeat, the pending → processing → completed writes
 * with its timings, pipeline_stats, and the batch's aggregation.
 */
import { sql } from "kysely";
import { createBatch } from "../src/modules/generation/batches.ts";
import { startContextWorkers } from "../src/modules/generation/context-workers.ts";
import { kvKeys } from "../src/modules/generation/kv-keys.ts";
import type { Platform } from "../src/runtime/platform.ts";
import { generationAccount, noOpPipeline } from "../test/support/generation-fixtures.ts";

/** Contexts per second by worker count; throws if a context did not end completed exactly once. */
export async function measureGenerationContexts(
  platform: Platform,
  contexts: number,
  workers: readonly number[],
): Promise<Map<number, number>> {
  const db = platform.database.db;
  const owner = await generationAccount(platform, { maxBatchSize: contexts, maxContextsPerDay: 100_000_000 });
  const pipeline = await noOpPipeline(platform, owner);
  const perSecond = new Map<number, number>();
  for (const count of workers) {
    // Made before the workers start, in one transaction (the seed's Batch Context Creation).
    const batch = await createBatch(platform, owner, {
      name: `bench ${count}`,
      pipelineId: pipeline.id,
      contexts: Array.from({ length: contexts }, () => ({})),
    });
    // As autovacuum would soon after so many new rows: the planner then reaches a claim's contexts by their
    // primary key instead of through the index of every pending one. The job drains are measured the same way.
    await sql`analyze generation_contexts, generation_batches, jobs`.execute(db);
    const statsBefore = await platform.kv.zcard(kvKeys.pipelineStats(pipeline.id));
    const started = performance.now();
    const stop = await startContextWorkers(platform, count);
    try {
      for (;;) {
        const row = await db
          .selectFrom("generation_batches")
          .select("status")
          .where("id", "=", batch.id)
          .executeTakeFirstOrThrow();
        if (row.status === "completed" || row.status === "failed") break;
        // Every 25 ms: a look is a statement of its own, and a tighter loop takes a share of a small machine's
        // database from the workers it measures; the figure's error is under one interval.
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      perSecond.set(count, contexts / ((performance.now() - started) / 1000));
    } finally {
      await stop();
    }
    const ended = await db
      .selectFrom("generation_batches")
      .select(["completed_count", "failed_count"])
      .where("id", "=", batch.id)
      .executeTakeFirstOrThrow();
    const stats = (await platform.kv.zcard(kvKeys.pipelineStats(pipeline.id))) - statsBefore;
    if (ended.completed_count !== contexts || ended.failed_count !== 0 || stats !== contexts) {
      throw new Error(
        `generation bench: ${ended.completed_count} completed, ${ended.failed_count} failed, ${stats} durations recorded of ${contexts}`,
      );
    }
  }
  return perSecond;
}
