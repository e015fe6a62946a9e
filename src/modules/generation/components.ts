import { sql } from "kysely";
import { Value } from "typebox/value";
import type { FieldProblem } from "../../platform/errors/app-error.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { newestFirstPage, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { invalidateComponentRegistry } from "./component-registry.ts";
import { snakeKeys } from "./keys.ts";
import { assertModelAllowed } from "./model-policy.ts";
import { organizationScope } from "./organization-scope.ts";
import { forgetPipelineSteps } from "./pipeline-steps.ts";
import { CONFIG_BY_TYPE, type ComponentInputBody, type ComponentUpdateBody, type ComponentView } from "./schemas.ts";
import type { ComponentType } from "./tables.ts";
import { componentView } from "./views.ts";

/** Creates a component; an ai_generator's model must be one the organization allows. */
export async function createComponent(
  platform: Platform,
  principal: Principal,
  input: ComponentInputBody,
): Promise<ComponentView> {
  const scope = organizationScope(principal);
  if (input.type === "ai_generator") {
    assertModelAllowed(
      await platform.identity.organizations.settings(scope.organizationId),
      input.config.model,
      "body.config.model",
    );
  }
  const row = await platform.database.db
    .insertInto("generation_components")
    .values({
      organization_id: scope.organizationId,
      name: input.name,
      type: input.type,
      description: input.description ?? null,
      config: JSON.stringify(snakeKeys(input.config)),
      metadata: JSON.stringify(input.metadata ?? {}),
      created_by: scope.userId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await invalidateComponentRegistry(platform, scope.organizationId);
  return componentView(row);
}

/** A component of the caller's organization; another organization's is not found. */
export async function getComponent(
  platform: Platform,
  principal: Principal,
  componentId: string,
): Promise<ComponentView> {
  const scope = organizationScope(principal);
  const row = await platform.database.db
    .selectFrom("generation_components")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", componentId)
    .executeTakeFirst();
  if (!row) throw errors.componentNotFound(componentId);
  return componentView(row);
}

/** The organization's components, newest first, optionally of one type and only active (or inactive) ones. */
export async function listComponents(
  platform: Platform,
  principal: Principal,
  options: { type?: ComponentType; active?: boolean; limit: number; cursor?: string },
): Promise<Page<ComponentView>> {
  const scope = organizationScope(principal);
  let query = platform.database.read
    .selectFrom("generation_components")
    .selectAll()
    .where("organization_id", "=", scope.organizationId);
  if (options.type) query = query.where("type", "=", options.type);
  if (options.active !== undefined) query = query.where("is_active", "=", options.active);
  return newestFirstPage(query, options, componentView);
}

/**
 * Changes a component's name, description, config or activity. A config is
 * the whole config of the component's own type (its type does not change),
 * and an ai_generator's model must be one the organization allows, both when
 * its config changes and when it is made active again (the organization may
 * have dropped the model meanwhile). Pipelines already using the component
 * keep it, active or not; workers read the active ones through the registry,
 * which this drops.
 */
export async function updateComponent(
  platform: Platform,
  principal: Principal,
  componentId: string,
  input: ComponentUpdateBody,
): Promise<ComponentView> {
  const scope = organizationScope(principal);
  const current = await platform.database.db
    .selectFrom("generation_components")
    .select(["type", "config"])
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", componentId)
    .executeTakeFirst();
  if (!current) throw errors.componentNotFound(componentId);
  if (input.config !== undefined) assertConfigOfType(current.type, input.config);
  if (current.type === "ai_generator" && (input.config !== undefined || input.isActive === true)) {
    const model = input.config !== undefined ? (input.config as { model?: unknown }).model : current.config.model;
    assertModelAllowed(
      await platform.identity.organizations.settings(scope.organizationId),
      model,
      "body.config.model",
    );
  }
  const row = await platform.database.db
    .updateTable("generation_components")
    .set({
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.config !== undefined ? { config: JSON.stringify(snakeKeys(input.config)) } : {}),
      ...(input.isActive !== undefined ? { is_active: input.isActive } : {}),
      updated_at: sql<Date>`now()`,
    })
    .where("organization_id", "=", scope.organizationId)
    .where("id", "=", componentId)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw errors.componentNotFound(componentId);
  await Promise.all([
    invalidateComponentRegistry(platform, scope.organizationId),
    forgetPipelineSteps(platform, { componentId }),
  ]);
  return componentView(row);
}

/**
 * The body's config is one of the three types' (the schema's union); here it
 * must be the component's own type's, or a 400 names each field at fault.
 */
function assertConfigOfType(type: ComponentType, config: unknown): void {
  const schema = CONFIG_BY_TYPE[type];
  if (Value.Check(schema, config)) return;
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  const add = (path: string, code: string, message: string) => {
    const field = ["body.config", ...path.split("/").filter(Boolean)].join(".");
    if (seen.has(field)) return;
    seen.add(field);
    problems.push({ field, code, message });
  };
  for (const error of Value.Errors(schema, config)) {
    const params = error.params as { requiredProperties?: string[]; additionalProperties?: string[] };
    if (error.keyword === "required") {
      for (const name of params.requiredProperties ?? []) {
        add(`${error.instancePath}/${name}`, "required", `a ${type} component's config needs it`);
      }
    } else if (error.keyword === "additionalProperties") {
      for (const name of params.additionalProperties ?? []) {
        add(`${error.instancePath}/${name}`, "unknown_field", `is not a field of a ${type} component's config`);
      }
    } else if (error.keyword !== "boolean") {
      add(error.instancePath, error.keyword, error.message);
    }
  }
  if (problems.length === 0) add("", "type", `is not a ${type} component's config`);
  throw errors.validationFailed(problems);
}
