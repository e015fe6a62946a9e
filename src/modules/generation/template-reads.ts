import { sql } from "kysely";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { decodeKeyCursor, encodeKeyCursor, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { TemplateView } from "./schemas.ts";
import { cachedTemplate } from "./template-cache.ts";
import { templateView } from "./views.ts";

/** What a template key may be (the migration's CHECK and schemas.ts's TemplateKey). */
const TEMPLATE_KEY = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

/** A template's latest version, by its key (active or not: the version says). */
export function getLatestTemplate(
  platform: Platform,
  principal: Principal,
  templateKey: string,
): Promise<TemplateView> {
  return templateVersion(platform, principal, templateKey, "latest");
}

/** One version of a template, by its key and number. */
export function getTemplateVersion(
  platform: Platform,
  principal: Principal,
  templateKey: string,
  version: number,
): Promise<TemplateView> {
  return templateVersion(platform, principal, templateKey, version);
}

async function templateVersion(
  platform: Platform,
  principal: Principal,
  templateKey: string,
  version: number | "latest",
): Promise<TemplateView> {
  const scope = organizationScope(principal);
  let query = platform.database.db
    .selectFrom("generation_templates")
    .selectAll()
    .where("organization_id", "=", scope.organizationId)
    .where("template_key", "=", templateKey);
  query = version === "latest" ? query.orderBy("version", "desc").limit(1) : query.where("version", "=", version);
  const row = await query.executeTakeFirst();
  if (!row) throw errors.templateNotFound();
  return templateView(row);
}

/** A template version by its id, read through seed 001's template cache. */
export async function getTemplateById(
  platform: Platform,
  principal: Principal,
  templateId: string,
): Promise<TemplateView> {
  const scope = organizationScope(principal);
  const template = await cachedTemplate(platform, scope.organizationId, templateId);
  if (!template) throw errors.templateNotFound();
  return template;
}

/**
 * The organization's templates, the latest version of each, by key. With
 * `tag`, those whose latest version carries it (the tags GIN index finds
 * the candidates; an earlier version's tags do not count). `active` filters
 * on the template's activity, which all its versions share. The newest
 * version of a key is the one no other version of the key exceeds, which
 * the (organization_id, template_key, version) unique index answers.
 */
export async function listTemplates(
  platform: Platform,
  principal: Principal,
  options: { tag?: string; active?: boolean; limit: number; cursor?: string },
): Promise<Page<TemplateView>> {
  const scope = organizationScope(principal);
  const after = decodeKeyCursor(options.cursor, (key) => TEMPLATE_KEY.test(key));
  let query = platform.database.read
    .selectFrom("generation_templates as t")
    .selectAll("t")
    .where("t.organization_id", "=", scope.organizationId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("generation_templates as n")
            .select(sql.lit(1).as("one"))
            .whereRef("n.organization_id", "=", "t.organization_id")
            .whereRef("n.template_key", "=", "t.template_key")
            .whereRef("n.version", ">", "t.version"),
        ),
      ),
    );
  if (options.tag !== undefined) query = query.where(sql<boolean>`t.tags @> array[${options.tag}]::text[]`);
  if (options.active !== undefined) query = query.where("t.is_active", "=", options.active);
  if (after !== null) query = query.where("t.template_key", ">", after);
  const rows = await query
    .orderBy("t.template_key")
    .limit(options.limit + 1)
    .execute();
  const items = rows.slice(0, options.limit);
  const last = items.at(-1);
  return {
    items: items.map(templateView),
    nextCursor: rows.length > options.limit && last ? encodeKeyCursor(last.template_key) : null,
  };
}
