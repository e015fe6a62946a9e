import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { BatchWithSummaryView } from "./schemas.ts";
import { batchView, statusCounts } from "./views.ts";

/**
 * A batch of the caller's organization with its summary: seed 001's Batch
 * Status aggregation (its contexts counted by status, a GROUP BY that the
 * contexts' (batch_id, status) index serves) and, in the same pass, their
 * tokens and cost added up. The counts are the contexts' own, so they hold
 * whatever the batch's running counters say.
 */
export async function getBatch(
  platform: Platform,
  principal: Principal,
  batchId: string,
): Promise<BatchWithSummaryView> {
  const scope = organizationScope(principal);
  const db = platform.database.db;
  const batch = await db
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
  return {
    ...batchView(
      batch,
      contexts.map((c) => c.id),
    ),
    summary: {
      contexts: statusCounts(groups),
      inputTokens: total("input_tokens"),
      outputTokens: total("output_tokens"),
      // Rounded to the column's six places, so float addition leaves no tail.
      costUsd: Math.round(total("cost_usd") * 1e6) / 1e6,
    },
  };
}
