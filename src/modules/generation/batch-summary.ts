import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { endBatchIfDone } from "./batch-progress.ts";
import { organizationScope } from "./organization-scope.ts";
import type { BatchWithSummaryView } from "./schemas.ts";
import { batchView, statusCounts } from "./views.ts";

/**
 * A batch of the caller's organization with its summary: seed 001's Batch
 * Status aggregation (its contexts counted by status, a GROUP BY that the
 * contexts' (batch_id, status) index serves) and, in the same pass, their
 * tokens and cost added up. The counts are the contexts' own (the batch's
 * row holds them only once it has ended), so they are true at any moment.
 * A batch whose contexts have all ended but whose row was not ended (its
 * last worker died in between) is ended here.
 */
export async function getBatch(
  platform: Platform,
  principal: Principal,
  batchId: string,
): Promise<BatchWithSummaryView> {
  const scope = organizationScope(principal);
  const db = platform.database.db;
  let batch = await db
    .selectFrom("generation_batches")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", batchId)
    .executeTakeFirst();
  if (!batch) throw errors.batchNotFound();
  const contexts = await db
    .selectFrom("generation_contexts")
    .select("id")
    .where("batch_id", "=", batchId)
    .orderBy("id")
    .execute();
  const groups = await db
    .selectFrom("generation_contexts")
    .select((eb) => [
      "status",
      eb.fn.countAll<string>().as("count"),
      eb.fn.coalesce(eb.fn.sum<string>("input_tokens"), eb.lit(0)).as("input_tokens"),
      eb.fn.coalesce(eb.fn.sum<string>("output_tokens"), eb.lit(0)).as("output_tokens"),
      eb.fn.coalesce(eb.fn.sum<string>("cost_usd"), eb.lit(0)).as("cost_usd"),
    ])
    .where("batch_id", "=", batchId)
    .groupBy("status")
    .execute();
  // Sums are exact in the database (bigint, numeric); the totals are added here as numbers, as the API shows them.
  const total = (column: "input_tokens" | "output_tokens" | "cost_usd") =>
    groups.reduce((sum, group) => sum + Number(group[column]), 0);
  const counts = statusCounts(groups);
  if (counts.pending + counts.processing === 0 && (batch.status === "pending" || batch.status === "processing")) {
    await endBatchIfDone(db, batch.id);
    batch = await db.selectFrom("generation_batches").selectAll().where("id", "=", batch.id).executeTakeFirstOrThrow();
  }
  return {
    ...batchView(
      batch,
      contexts.map((c) => c.id),
    ),
    completedCount: counts.completed,
    failedCount: counts.failed,
    cancelledCount: counts.cancelled,
    summary: {
      contexts: counts,
      inputTokens: total("input_tokens"),
      outputTokens: total("output_tokens"),
      // Rounded to the column's six places, so float addition leaves no tail.
      costUsd: Math.round(total("cost_usd") * 1e6) / 1e6,
    },
  };
}
