import { sql } from "kysely";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { readableBy } from "./entries.ts";
import { forgetEntries } from "./entry-cache.ts";
import { templates } from "./kinds.ts";
import type { RenderedTemplateView, TemplateUseBody } from "./schemas.ts";
import { fillTemplate } from "./template-variables.ts";

/**
 * Uses a template: fills its variables with the values given (checked
 * against each variable's declared type) and counts the use in the seed's
 * usage_count. Any caller who may read the template may use it; a deleted
 * template is not found. The count goes up only for a use that succeeds,
 * in the same statement that reads the template, so concurrent uses each
 * count.
 */
export async function useTemplate(
  platform: Platform,
  principal: Principal,
  id: string,
  body: TemplateUseBody,
): Promise<RenderedTemplateView> {
  const template = await platform.database.read
    .selectFrom("knowledge_templates")
    .select(["template_content", "variables"])
    .where("id", "=", id)
    .where("is_active", "=", true)
    .where(readableBy(principal))
    .executeTakeFirst();
  if (!template) throw errors.knowledgeEntryNotFound("template", id);
  const filled = fillTemplate(template.template_content, template.variables, body.variables);
  if ("problems" in filled) throw errors.validationFailed(filled.problems);
  const counted = await platform.database.db
    .updateTable("knowledge_templates")
    .set({ usage_count: sql`usage_count + 1` })
    .where("id", "=", id)
    .where("is_active", "=", true)
    .returning("usage_count")
    .executeTakeFirst();
  // Deleted between the read and the count: the use did not happen.
  if (!counted) throw errors.knowledgeEntryNotFound("template", id);
  // Cached reads show the count: the next one loads it afresh.
  await forgetEntries(platform, templates, [id]);
  return { templateId: id, content: filled.content, usageCount: counted.usage_count };
}
