import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { uuidv7 } from "../../platform/ids.ts";
import type { Platform } from "../../runtime/platform.ts";
import { enqueueContexts } from "./context-queue.ts";
import { activePipeline, takeDailyQuota } from "./contexts.ts";
import { organizationScope } from "./organization-scope.ts";
import type { BatchInputBody, BatchView } from "./schemas.ts";
import { batchView } from "./views.ts";

/**
 * Creates a batch and its contexts in one transaction (the seed's Batch
 * Context Creation insertMany). A batch larger than the organization's
 * max_batch_size is refused before anything is written; its contexts count
 * against max_contexts_per_day all together, so a batch is made whole or
 * not at all.
 */
export async function createBatch(platform: Platform, principal: Principal, input: BatchInputBody): Promise<BatchView> {
  const scope = organizationScope(principal);
  const settings = await platform.identity.organizations.settings(scope.organizationId);
  if (input.contexts.length > settings.maxBatchSize) {
    throw errors.batchTooLarge(input.contexts.length, settings.maxBatchSize);
  }
  return transaction(platform.database.db, async (trx) => {
    await takeDailyQuota(trx, scope.organizationId, settings, input.contexts.length);
    const pipeline = await activePipeline(trx, scope.organizationId, input.pipelineId);
    const defaultType = await trx
      .selectFrom("generation_pipelines")
      .select("default_context_type")
      .where("id", "=", pipeline.id)
      .executeTakeFirstOrThrow();
    const priority = input.priority ?? 5;
    const batch = await trx
      .insertInto("generation_batches")
      .values({
        id: uuidv7(),
        organization_id: scope.organizationId,
        user_id: scope.userId,
        pipeline_id: pipeline.id,
        name: input.name,
        description: input.description ?? null,
        priority,
        context_count: input.contexts.length,
        metadata: JSON.stringify(input.metadata ?? {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const ids = input.contexts.map(() => uuidv7());
    await trx
      .insertInto("generation_contexts")
      .values(
        input.contexts.map((context, i) => ({
          id: ids[i] as string,
          organization_id: scope.organizationId,
          user_id: scope.userId,
          batch_id: batch.id,
          pipeline_id: pipeline.id,
          pipeline: pipeline.types,
          type: context.type ?? defaultType.default_context_type ?? "default",
          priority,
          data: JSON.stringify(context.data ?? {}),
          metadata: JSON.stringify(context.metadata ?? {}),
        })),
      )
      .execute();
    await enqueueContexts(
      platform.jobs,
      trx,
      ids.map((id) => ({ id, priority })),
    );
    return batchView(batch, ids);
  });
}
