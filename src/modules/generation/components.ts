import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { snakeKeys } from "./keys.ts";
import { assertModelAllowed } from "./model-policy.ts";
import { organizationScope } from "./organization-scope.ts";
import type { ComponentInputBody, ComponentView } from "./schemas.ts";
import { componentView } from "./views.ts";

/** Creates a component; an ai_generator's model must be one the organization allows. */
export async function createComponent(
  platform: Platform,
  principal: Principal,
  input: ComponentInputBody,
): Promise<ComponentView> {
  const scope = organizationScope(principal);
  if (input.type === "ai_generator") {
    assertModelAllowed(await platform.identity.organizations.settings(scope.organizationId), input.config.model);
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
  return componentView(row);
}
