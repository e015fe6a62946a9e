import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";

/**
 * A batch's progress. Its counts are the seed's Batch Status aggregation
 * over its contexts (the (batch_id, status) index), so they are true
 * however many workers finish its contexts at once: nothing is counted
 * twice or missed, and no context's transaction waits on the batch's row
 * (a counter on the row, incremented by each context's completion, made
 * every worker of a batch queue behind one row lock held through each
 * commit). The row's own counts and status are written when the batch ends.
 */

export interface BatchCounts {
  pending: number;
  processing: number;
  completed: number;
  failed: number;
  cancelled: number;
}

/** The seed's Batch Status query: contexts of the batch by status. */
export async function batchCounts(db: Kysely<Tables>, batchId: string): Promise<BatchCounts> {
  const rows = await db
    .selectFrom("generation_contexts")
    .select(["status", (eb) => eb.fn.countAll<string>().as("n")])
    .where("batch_id", "=", batchId)
    .groupBy("status")
    .execute();
  const counts: BatchCounts = { pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/**
 * Ends the batch if none of its contexts is pending or processing: its
 * counts, status (completed when any context completed, failed when none
 * did and some failed, cancelled otherwise), processing_completed_at and
 * total_duration_ms. Call after a context's end has committed: of the last
 * contexts to end together, the one that commits last sees all the others
 * ended, so a batch always ends. Idempotent, and cheap while contexts are
 * open (one index probe). Reads call it too, which mends a batch whose last
 * worker died between its commit and this.
 */
export async function endBatchIfDone(db: Kysely<Tables>, batchId: string | null): Promise<void> {
  if (batchId === null) return;
  const open = await db
    .selectFrom("generation_contexts")
    .select("id")
    .where("batch_id", "=", batchId)
    .where("status", "in", ["pending", "processing"])
    .limit(1)
    .executeTakeFirst();
  if (open) return;
  const counts = await batchCounts(db, batchId);
  const status = counts.completed > 0 ? "completed" : counts.failed > 0 ? "failed" : "cancelled";
  await db
    .updateTable("generation_batches")
    .set({
      completed_count: counts.completed,
      failed_count: counts.failed,
      cancelled_count: counts.cancelled,
      status,
      processing_completed_at: sql`now()`,
      total_duration_ms: sql`floor(extract(epoch from now() - coalesce(processing_started_at, created_at)) * 1000)::bigint`,
      updated_at: sql`now()`,
    })
    .where("id", "=", batchId)
    .where("status", "in", ["pending", "processing"])
    .execute();
}

/**
 * The update that marks batches as processing when their first contexts
 * start (it matches nothing after that, and so takes no lock), for a CTE of
 * the statement that starts the contexts; `batchIds` is SQL selecting their
 * batch ids. (`= any(array(...))`, so the batches are found by primary key
 * whatever the planner guesses of the subquery's rows.)
 */
export function startedBatches(batchIds: string): string {
  return `update generation_batches set status = 'processing', processing_started_at = now(), updated_at = now()
  where id = any(array(${batchIds})) and status = 'pending'`;
}
