import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { endBatchIfDone } from "./batch-progress.ts";
import { organizationScope } from "./organization-scope.ts";
import type { ContextView } from "./schemas.ts";
import type { ContextStatus } from "./tables.ts";
import { contextView } from "./views.ts";

/** The statuses a context can be cancelled from: it has not ended. */
const CANCELLABLE: readonly ContextStatus[] = ["pending", "processing"];

/**
 * Cancels a pending or processing context: its status becomes cancelled and
 * its completed_at and updated_at are set (the seed's Context Updates); then
 * its batch ends if this was its last open context. The context's row is
 * locked before its status is read, so a worker ending it at the same moment
 * goes first or second, never both: whichever is second sees the status the
 * first wrote (a worker's own update is conditional on the status it set).
 * A context that has already ended is 409 context_not_cancellable
 * (`details.status`).
 */
export async function cancelContext(platform: Platform, principal: Principal, contextId: string): Promise<ContextView> {
  const scope = organizationScope(principal);
  const row = await transaction(platform.database.db, async (trx) => {
    const current = await trx
      .selectFrom("generation_contexts")
      .select("status")
      .where("organization_id", "=", scope.organizationId)
      .where("id", "=", contextId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw errors.contextNotFound();
    if (!CANCELLABLE.includes(current.status)) throw errors.contextNotCancellable(current.status);
    return trx
      .updateTable("generation_contexts")
      .set({ status: "cancelled", completed_at: sql<Date>`now()`, updated_at: sql<Date>`now()` })
      .where("id", "=", contextId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
  await endBatchIfDone(platform.database.db, row.batch_id);
  return contextView(row);
}
