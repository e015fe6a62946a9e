import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { camelKeys, snakeKeys } from "./keys.ts";
import { assertModelAllowed } from "./model-policy.ts";
import { organizationScope } from "./organization-scope.ts";
import type { PipelineInputBody, PipelineView } from "./schemas.ts";

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
    const ids = [...new Set(input.components.map((step) => step.componentId))];
    const found = await trx
      .selectFrom("generation_components")
      .select(["id", "type", "is_active"])
      .where("organization_id", "=", scope.organizationId)
      .where("id", "in", ids)
      .forShare()
      .execute();
    const byId = new Map(found.map((c) => [c.id, c]));
    const steps = input.components.map((step, i) => {
      const component = byId.get(step.componentId);
      if (!component) throw errors.componentNotFound(step.componentId);
      if (!component.is_active) throw errors.componentInactive(step.componentId);
      const overrides = snakeKeys(step.configOverrides ?? {});
      if (component.type === "ai_generator" && "model" in overrides) assertModelAllowed(settings, overrides.model);
      return { position: i + 1, component, name: step.name ?? null, overrides };
    });
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
    await trx
      .insertInto("generation_pipeline_components")
      .values(
        steps.map((step) => ({
          pipeline_id: pipeline.id,
          position: step.position,
          component_id: step.component.id,
          organization_id: scope.organizationId,
          name: step.name,
          config_overrides: JSON.stringify(step.overrides),
        })),
      )
      .execute();
    return {
      id: pipeline.id,
      name: pipeline.name,
      description: pipeline.description,
      defaultContextType: pipeline.default_context_type,
      components: steps.map((step) => ({
        componentId: step.component.id,
        type: step.component.type,
        name: step.name,
        order: step.position,
        configOverrides: camelKeys(step.overrides),
      })),
      metadata: pipeline.metadata,
      isActive: pipeline.is_active,
      createdBy: pipeline.created_by,
      createdAt: pipeline.created_at.toISOString(),
      updatedAt: pipeline.updated_at.toISOString(),
    };
  });
}
