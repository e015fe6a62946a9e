import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { OrganizationSettings } from "../../platform/identity/organization-service.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { snakeKeys } from "./keys.ts";
import { assertModelAllowed } from "./model-policy.ts";
import { organizationScope } from "./organization-scope.ts";
import { pipelineSteps } from "./pipeline-reads.ts";
import { forgetPipelineSteps } from "./pipeline-steps.ts";
import type { PipelineInputBody, PipelineUpdateBody, PipelineView } from "./schemas.ts";
import { type PipelineStepRow, pipelineView } from "./views.ts";

type Step = PipelineInputBody["components"][number];

/**
 * Creates a pipeline of ordered components. Each must exist in the caller's
 * organization (another organization's is not found, as a missing one is)
 * and be active; an override that changes an ai_generator's model is held
 * to the organization's allowed models like the component itself. The
 * components are share-locked until the pipeline commits, so none is
 * deactivated in between.
 */
export async function createPipeline(
  platform: Platform,
  principal: Principal,
  input: PipelineInputBody,
): Promise<PipelineView> {
  const scope = organizationScope(principal);
  const settings = await platform.identity.organizations.settings(scope.organizationId);
  return transaction(platform.database.db, async (trx) => {
    const steps = await checkedSteps(trx, scope.organizationId, settings, input.components);
    const pipeline = await trx
      .insertInto("generation_pipelines")
      .values({
        organization_id: scope.organizationId,
        name: input.name,
        description: input.description ?? null,
        default_context_type: input.defaultContextType ?? null,
        metadata: JSON.stringify(input.metadata ?? {}),
        created_by: scope.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await insertSteps(trx, pipeline.id, scope.organizationId, steps);
    return pipelineView(pipeline, steps);
  });
}

/**
 * Changes a pipeline's fields; `components`, when given, replaces its steps
 * whole, checked as createPipeline checks them. The pipeline row is locked
 * for the change, so two updates apply one after the other. Contexts made
 * earlier keep the component types they were made with (their `pipeline`).
 */
export async function updatePipeline(
  platform: Platform,
  principal: Principal,
  pipelineId: string,
  input: PipelineUpdateBody,
): Promise<PipelineView> {
  const scope = organizationScope(principal);
  const settings = input.components ? await platform.identity.organizations.settings(scope.organizationId) : null;
  const updated = await transaction(platform.database.db, async (trx) => {
    const locked = await trx
      .selectFrom("generation_pipelines")
      .select("id")
      .where("organization_id", "=", scope.organizationId)
      .where("id", "=", pipelineId)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw errors.pipelineNotFound();
    const steps =
      input.components && settings ? await checkedSteps(trx, scope.organizationId, settings, input.components) : null;
    const pipeline = await trx
      .updateTable("generation_pipelines")
      .set({
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.defaultContextType !== undefined ? { default_context_type: input.defaultContextType } : {}),
        ...(input.isActive !== undefined ? { is_active: input.isActive } : {}),
        updated_at: sql<Date>`now()`,
      })
      .where("id", "=", pipelineId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (steps) {
      await trx.deleteFrom("generation_pipeline_components").where("pipeline_id", "=", pipelineId).execute();
      await insertSteps(trx, pipelineId, scope.organizationId, steps);
    }
    return pipelineView(pipeline, steps ?? (await pipelineSteps(trx, [pipelineId])).get(pipelineId) ?? []);
  });
  // Workers cache a pipeline's steps; the new ones apply to contexts started from now on.
  await forgetPipelineSteps(platform, { pipelineId });
  return updated;
}

/**
 * The steps as they will be stored, or the first problem with them: a
 * component missing from the organization (404 component_not_found) or
 * inactive (409 component_inactive), or an override naming a model the
 * organization does not allow (403); each error names the field at fault.
 */
async function checkedSteps(
  trx: Kysely<Tables>,
  organizationId: string,
  settings: OrganizationSettings,
  components: Step[],
): Promise<PipelineStepRow[]> {
  const ids = [...new Set(components.map((step) => step.componentId))];
  const found = await trx
    .selectFrom("generation_components")
    .select(["id", "type", "is_active"])
    .where("organization_id", "=", organizationId)
    .where("id", "in", ids)
    .forShare()
    .execute();
  const byId = new Map(found.map((c) => [c.id, c]));
  return components.map((step, i) => {
    const at = `body.components.${i}`;
    const component = byId.get(step.componentId);
    if (!component) throw errors.componentNotFound(step.componentId, `${at}.componentId`);
    if (!component.is_active) throw errors.componentInactive(step.componentId, `${at}.componentId`);
    const overrides = snakeKeys(step.configOverrides ?? {});
    if (component.type === "ai_generator" && "model" in overrides) {
      assertModelAllowed(settings, overrides.model, `${at}.configOverrides.model`);
    }
    return {
      component_id: component.id,
      type: component.type,
      name: step.name ?? null,
      position: i + 1,
      config_overrides: overrides,
    };
  });
}

async function insertSteps(
  trx: Kysely<Tables>,
  pipelineId: string,
  organizationId: string,
  steps: PipelineStepRow[],
): Promise<void> {
  await trx
    .insertInto("generation_pipeline_components")
    .values(
      steps.map((step) => ({
        pipeline_id: pipelineId,
        position: step.position,
        component_id: step.component_id,
        organization_id: organizationId,
        name: step.name,
        config_overrides: JSON.stringify(step.config_overrides),
      })),
    )
    .execute();
}
