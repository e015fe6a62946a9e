import type { Selectable } from "kysely";
import type { HashFields } from "../../platform/cache/hash-cache.ts";
import { isUuid } from "../../platform/ids.ts";
import type { Platform } from "../../runtime/platform.ts";
import { kvKeys, TEMPLATE_CACHE_TTL_MS } from "./kv-keys.ts";
import type { TemplateView } from "./schemas.ts";
import type { GenerationTemplatesTable } from "./tables.ts";
import { templateView } from "./views.ts";

/**
 * Seed 001's template cache: `template:{template_id}`, a hash of one
 * template version for an hour. Its fields are the seed's (`name`,
 * `version`, `structure`: the JSON of `{ sections }` in the stored form,
 * `updated_at`) and what else the API shows of a template, so a cached read
 * answers whole: `organization_id`, `template_key`, `is_active`,
 * `description`, `tags` and `metadata` (JSON), `created_by`, `created_at`.
 *
 * The id is a version's (the API's `id`), unique across organizations, so
 * one entry serves every reader and the organization is checked after the
 * read. A version is never edited in place: a new version is a new row with
 * a new id and leaves every entry true, so only deactivating or reactivating
 * a template (which changes `is_active` and `updated_at` of all its
 * versions) drops entries. Seed 000's prompt-template cache shares the
 * `template:` prefix; its keys are other tables' random UUIDs, so the two
 * never name the same key.
 */

function templateCache(platform: Platform) {
  return platform.caches.hash("template", TEMPLATE_CACHE_TTL_MS);
}

/**
 * A template version of the organization by its id, through the cache; null
 * when there is none (or it is another organization's). For the API and for
 * the workers, which read a context's template for each context they run.
 */
export async function cachedTemplate(
  platform: Platform,
  organizationId: string,
  templateId: string,
): Promise<TemplateView | null> {
  if (!isUuid(templateId)) return null;
  const fields = await templateCache(platform).getOrLoad(kvKeys.template(templateId), async () => {
    const row = await platform.database.db
      .selectFrom("generation_templates")
      .selectAll()
      .where("id", "=", templateId)
      .executeTakeFirst();
    return row ? templateFields(row) : undefined;
  });
  if (!fields || fields.organization_id !== organizationId) return null;
  return templateView(rowOf(templateId, fields));
}

/** Drops the given versions' entries; call once the write that changed them has committed. */
export async function invalidateTemplates(platform: Platform, templateIds: string[]): Promise<void> {
  await templateCache(platform).invalidate(...templateIds.map((id) => kvKeys.template(id)));
}

function templateFields(row: Selectable<GenerationTemplatesTable>): HashFields {
  return {
    name: row.name,
    version: String(row.version),
    structure: JSON.stringify({ sections: row.sections }),
    updated_at: row.updated_at.toISOString(),
    organization_id: row.organization_id,
    template_key: row.template_key,
    is_active: String(row.is_active),
    description: JSON.stringify(row.description),
    tags: JSON.stringify(row.tags),
    metadata: JSON.stringify(row.metadata),
    created_by: JSON.stringify(row.created_by),
    created_at: row.created_at.toISOString(),
  };
}

function rowOf(id: string, fields: HashFields): Selectable<GenerationTemplatesTable> {
  const json = (name: string) => JSON.parse(fields[name] ?? "null");
  return {
    id,
    organization_id: fields.organization_id ?? "",
    template_key: fields.template_key ?? "",
    version: Number(fields.version),
    name: fields.name ?? "",
    description: json("description"),
    sections: (json("structure") as { sections: unknown[] }).sections,
    tags: json("tags"),
    metadata: json("metadata"),
    is_active: fields.is_active === "true",
    created_by: json("created_by"),
    created_at: new Date(fields.created_at ?? 0),
    updated_at: new Date(fields.updated_at ?? 0),
  };
}
