import type { Selectable } from "kysely";
import type { HashFields } from "../../platform/cache/hash-cache.ts";
import type { Platform } from "../../runtime/platform.ts";
import { COMPONENT_REGISTRY_TTL_MS, kvKeys } from "./kv-keys.ts";
import type { ComponentView } from "./schemas.ts";
import { COMPONENT_TYPES, type ComponentType, type GenerationComponentsTable } from "./tables.ts";
import { componentView } from "./views.ts";

/**
 * Seed 001's component registry cache: `component_registry:{organization_id}`,
 * a hash with one field per component type holding the JSON array of the
 * organization's active components of that type (each as stored: the seed's
 * snake_case, timestamps in ISO form), for 30 minutes. Every type has its
 * field, `[]` when it has none, so a type without components is a hit too.
 * Read through componentRegistry(); no route or worker reads it yet (the
 * workers take a pipeline's steps from their own in-process cache, since a
 * pipeline may name a component deactivated since). Creating or updating a component drops
 * it (after the write commits; see platform/cache/hash-cache.ts for why a
 * load racing that drop cannot put the old registry back).
 */

type StoredComponent = Omit<Selectable<GenerationComponentsTable>, "created_at" | "updated_at"> & {
  created_at: string;
  updated_at: string;
};

function registryCache(platform: Platform) {
  return platform.caches.hash("component_registry", COMPONENT_REGISTRY_TTL_MS);
}

/** The organization's active components by type, oldest first within a type, through the cache. */
export async function componentRegistry(
  platform: Platform,
  organizationId: string,
): Promise<Record<ComponentType, ComponentView[]>> {
  const fields = await registryCache(platform).getOrLoad(kvKeys.componentRegistry(organizationId), () =>
    loadRegistry(platform, organizationId),
  );
  return Object.fromEntries(
    COMPONENT_TYPES.map((type) => [
      type,
      (JSON.parse(fields?.[type] ?? "[]") as StoredComponent[]).map((c) =>
        componentView({ ...c, created_at: new Date(c.created_at), updated_at: new Date(c.updated_at) }),
      ),
    ]),
  ) as Record<ComponentType, ComponentView[]>;
}

/** Drops the organization's registry; call once the write that changed its components has committed. */
export async function invalidateComponentRegistry(platform: Platform, organizationId: string): Promise<void> {
  await registryCache(platform).invalidate(kvKeys.componentRegistry(organizationId));
}

/** One query on the (organization_id, type) where is_active index; every type gets its field. */
async function loadRegistry(platform: Platform, organizationId: string): Promise<HashFields> {
  const rows = await platform.database.db
    .selectFrom("generation_components")
    .selectAll()
    .where("organization_id", "=", organizationId)
    .where("is_active", "=", true)
    .orderBy("created_at")
    .orderBy("id")
    .execute();
  return Object.fromEntries(
    COMPONENT_TYPES.map((type) => [
      type,
      JSON.stringify(
        rows
          .filter((row) => row.type === type)
          .map(
            (row): StoredComponent => ({
              ...row,
              created_at: row.created_at.toISOString(),
              updated_at: row.updated_at.toISOString(),
            }),
          ),
      ),
    ]),
  );
}
