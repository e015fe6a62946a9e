import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";

/** How a context ended, as its batch counts it. */
export type ContextEnd = "completed" | "failed" | "cancelled";

/**
 * Counts a context's end on its batch, in the transaction that ends the
 * context: the counters are incremented in place (never read, added to and
 * written back), so they stay true however many workers finish contexts of
 * one batch at once; the row's lock, held to commit, orders them. The batch
 * itself ends with its last context: completed when any of its contexts
 * completed, failed when none did and some failed, cancelled otherwise; its
 * processing_completed_at and total_duration_ms are set then. Call last in
 * the transaction, so the batch row is locked for as short a time as can be.
 */
export async function countContextEnd(db: Kysely<Tables>, batchId: string | null, end: ContextEnd): Promise<void> {
  if (batchId === null) return;
  const completed = end === "completed" ? 1 : 0;
  const failed = end === "failed" ? 1 : 0;
  const cancelled = end === "cancelled" ? 1 : 0;
  await sql`
    update generation_batches set
      completed_count = completed_count + ${completed},
      failed_count = failed_count + ${failed},
      cancelled_count = cancelled_count + ${cancelled},
      status = case
        when completed_count + failed_count + cancelled_count + 1 < context_count then status
        when completed_count + ${completed} > 0 then 'completed'
        when failed_count + ${failed} > 0 then 'failed'
        else 'cancelled' end,
      processing_completed_at = case
        when completed_count + failed_count + cancelled_count + 1 >= context_count then now()
        else processing_completed_at end,
      total_duration_ms = case
        when completed_count + failed_count + cancelled_count + 1 >= context_count
          then floor(extract(epoch from now() - coalesce(processing_started_at, created_at)) * 1000)::bigint
        else total_duration_ms end,
      updated_at = now()
    where id = ${batchId}`.execute(db);
}

/**
 * The update that marks a batch as processing when its first context starts
 * (it matches nothing after that, and so takes no lock), for a CTE of the
 * statement that starts the context.
 */
export function startedBatch(batchId: RawBuilder<string | null>): RawBuilder<unknown> {
  return sql`
    update generation_batches set status = 'processing', processing_started_at = now(), updated_at = now()
    where id = ${batchId} and status = 'pending'`;
}
