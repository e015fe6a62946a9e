import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { afterCursor, decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { PromptTemplateView } from "./schemas.ts";
import { TEMPLATE_COLUMNS, templateView } from "./views.ts";

/** System templates, plus the caller's organization's own (anonymous callers see system ones only). */
function visible(platform: Platform, principal: Principal) {
  return platform.database.read
    .selectFrom("prompt_templates")
    .where("deleted_at", "is", null)
    .where((eb) =>
      principal.kind === "anonymous"
        ? eb("is_system", "=", true)
        : eb.or([eb("is_system", "=", true), eb("organization_id", "=", principal.organizationId)]),
    );
}

export async function listTemplates(
  platform: Platform,
  principal: Principal,
  options: { category?: string; limit: number; cursor?: string },
): Promise<Page<PromptTemplateView>> {
  let query = visible(platform, principal).select(TEMPLATE_COLUMNS);
  if (options.category) query = query.where("category", "=", options.category);
  const after = decodeCursor(options.cursor);
  if (after) query = query.where(afterCursor(after, "created_at", "id"));
  const rows = await query
    .orderBy("created_at")
    .orderBy("id")
    .limit(options.limit + 1)
    .execute();
  return toPage(rows, options.limit, (r) => ({ at: r.created_at, id: r.id }), templateView);
}

/** A template the caller may use, cached in seed 000's template: namespace (3600 s). */
export async function usableTemplate(
  platform: Platform,
  principal: Principal,
  id: string,
): Promise<PromptTemplateView> {
  const template = await platform.caches.ns("template").getOrLoad(id, async () => {
    const row = await platform.database.db
      .selectFrom("prompt_templates")
      .select([...TEMPLATE_COLUMNS, "organization_id"])
      .where("id", "=", id)
      .where("deleted_at", "is", null)
      .executeTakeFirst();
    return row ? { ...templateView(row), organizationId: row.organization_id } : undefined;
  });
  const allowed =
    template &&
    (template.isSystem || (principal.kind !== "anonymous" && template.organizationId === principal.organizationId));
  if (!template || !allowed) throw errors.promptTemplateNotFound();
  const { organizationId: _hidden, ...view } = template;
  return view;
}

export async function createTemplate(
  platform: Platform,
  principal: Exclude<Principal, { kind: "anonymous" }>,
  input: { name: string; promptText: string; category: string; description?: string },
): Promise<PromptTemplateView> {
  const row = await platform.database.db
    .insertInto("prompt_templates")
    .values({
      name: input.name,
      prompt_text: input.promptText,
      category: input.category.trim().toLowerCase(),
      description: input.description ?? null,
      is_system: false,
      organization_id: principal.organizationId,
      created_by: principal.userId,
    })
    .returning(TEMPLATE_COLUMNS)
    .executeTakeFirstOrThrow();
  return templateView(row);
}
