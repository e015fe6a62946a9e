import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { TemplateView } from "./schemas.ts";
import { invalidateTemplates } from "./template-cache.ts";
import { lockTemplateKey } from "./templates.ts";
import { templateView } from "./views.ts";

/**
 * Deactivates or reactivates a template: every version of its key, which
 * share one is_active (a template component uses its key's latest version
 * while the template is active). Under the key's lock, so a new version
 * made meanwhile takes the state this sets. Answers the latest version. The
 * versions' cache entries are dropped once the change has committed.
 */
export async function setTemplateActive(
  platform: Platform,
  principal: Principal,
  templateKey: string,
  active: boolean,
): Promise<TemplateView> {
  const scope = organizationScope(principal);
  const rows = await transaction(platform.database.db, async (trx) => {
    await lockTemplateKey(trx, scope.organizationId, templateKey);
    return (
      trx
        .updateTable("generation_templates")
        // A template already in that state keeps its updated_at: nothing changed.
        .set({
          is_active: active,
          updated_at: sql<Date>`case when is_active = ${active} then updated_at else now() end`,
        })
        .where("organization_id", "=", scope.organizationId)
        .where("template_key", "=", templateKey)
        .returningAll()
        .execute()
    );
  });
  const latest = rows.reduce<(typeof rows)[number] | undefined>(
    (newest, row) => (newest === undefined || row.version > newest.version ? row : newest),
    undefined,
  );
  if (!latest) throw errors.templateNotFound();
  await invalidateTemplates(
    platform,
    rows.map((row) => row.id),
  );
  return templateView(latest);
}
