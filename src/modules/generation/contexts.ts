import { type Kysely, sql, type Transaction } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { OrganizationSettings } from "../../platform/identity/organization-service.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { isUuid, uuidv7 } from "../../platform/ids.ts";
import type { Platform } from "../../runtime/platform.ts";
import { enqueueContexts } from "./context-queue.ts";
import { organizationScope } from "./organization-scope.ts";
import type { ContextInputBody, ContextView } from "./schemas.ts";
import { contextView } from "./views.ts";

/** Creates one context (pending, for a worker), counted against the organization's max_contexts_per_day. */
export async function createContext(
  platform: Platform,
  principal: Principal,
  input: ContextInputBody,
): Promise<ContextView> {
  const scope = organizationScope(principal);
  const settings = await platform.identity.organizations.settings(scope.organizationId);
  return transaction(platform.database.db, async (trx) => {
    await takeDailyQuota(trx, scope.organizationId, settings, 1);
    // No pipeline named: the organization's default_pipeline_id (seed 001's settings); with neither, no
    // worker could run the context, so it is refused now rather than failing later.
    const pipelineId = input.pipelineId ?? settings.defaultPipelineId;
    if (!pipelineId) {
      throw errors.validationFailed([
        {
          field: "body.pipelineId",
          code: "required",
          message: "is required: the organization has no default pipeline",
        },
      ]);
    }
    // A default stored before settings were checked may not be an id at all: then there is no such pipeline.
    if (!isUuid(pipelineId)) throw errors.pipelineNotFound();
    const pipeline = await activePipeline(trx, scope.organizationId, pipelineId);
    const row = await trx
      .insertInto("generation_contexts")
      .values({
        id: uuidv7(),
        organization_id: scope.organizationId,
        user_id: scope.userId,
        pipeline_id: pipeline.id,
        pipeline: pipeline.types,
        type: input.type,
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
        data: JSON.stringify(input.data ?? {}),
        metadata: JSON.stringify(input.metadata ?? {}),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await enqueueContexts(platform.jobs, trx, [row]);
    return contextView(row);
  });
}

/**
 * Refuses `count` more contexts when the organization has made its
 * max_contexts_per_day since midnight UTC; the Retry-After is the time to
 * the next midnight. Call inside the transaction that inserts them: the
 * organization's lock, held to its commit, makes concurrent creations count
 * one after the other, so none slips past the limit. The count reads the
 * contexts' (organization_id, created_at) index.
 */
export async function takeDailyQuota(
  trx: Transaction<Tables>,
  organizationId: string,
  settings: OrganizationSettings,
  count: number,
): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`generation_contexts_quota:${organizationId}`}))`.execute(trx);
  const { rows } = await sql<{ made: string; seconds_left: string }>`
    select
      (select count(*) from generation_contexts
        where organization_id = ${organizationId}
          and created_at >= (date_trunc('day', now() at time zone 'utc') at time zone 'utc')) as made,
      ceil(extract(epoch from (date_trunc('day', now() at time zone 'utc') + interval '1 day') - (now() at time zone 'utc'))) as seconds_left`.execute(
    trx,
  );
  const made = Number(rows[0]?.made ?? 0);
  if (made + count > settings.maxContextsPerDay) {
    throw errors.contextQuotaExceeded(settings.maxContextsPerDay, Math.max(1, Number(rows[0]?.seconds_left ?? 1)));
  }
}

/** An active pipeline of the organization and its component types in order; another organization's is not found. */
export async function activePipeline(
  db: Kysely<Tables>,
  organizationId: string,
  pipelineId: string,
): Promise<{ id: string; types: string[] }> {
  const pipeline = await db
    .selectFrom("generation_pipelines")
    .select(["id", "is_active"])
    .where("organization_id", "=", organizationId)
    .where("id", "=", pipelineId)
    .executeTakeFirst();
  if (!pipeline) throw errors.pipelineNotFound();
  if (!pipeline.is_active) throw errors.pipelineInactive();
  const steps = await db
    .selectFrom("generation_pipeline_components as s")
    .innerJoin("generation_components as c", "c.id", "s.component_id")
    .select("c.type")
    .where("s.pipeline_id", "=", pipelineId)
    .orderBy("s.position")
    .execute();
  return { id: pipeline.id, types: steps.map((s) => s.type) };
}
