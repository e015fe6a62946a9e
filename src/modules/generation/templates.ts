import { type Kysely, sql } from "kysely";
import { sqlState } from "../../platform/database/sqlstate.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { FieldProblem } from "../../platform/errors/app-error.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { organizationScope } from "./organization-scope.ts";
import type { TemplateInputBody, TemplateSectionView, TemplateVersionInputBody, TemplateView } from "./schemas.ts";
import { storedSections, templateView } from "./views.ts";

/** Creates version 1 of a template under a key new to the organization. */
export async function createTemplate(
  platform: Platform,
  principal: Principal,
  input: TemplateInputBody,
): Promise<TemplateView> {
  const scope = organizationScope(principal);
  assertSections(input.sections);
  try {
    const row = await platform.database.db
      .insertInto("generation_templates")
      .values({
        organization_id: scope.organizationId,
        template_key: input.templateKey,
        version: 1,
        ...templateFields(input),
        created_by: scope.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return templateView(row);
  } catch (error) {
    if (sqlState(error) === "23505") throw errors.templateKeyTaken(input.templateKey);
    throw error;
  }
}

/**
 * Adds a version to a template: a new row with the same key and the next
 * version number. The earlier versions stay as they were (contexts made
 * from them keep meaning what they meant); the template's key is locked for
 * the insert so two new versions cannot take the same number, and so a
 * deactivation (template-activation.ts, under the same lock) cannot pass
 * it. The new version is active when the template is: every version of a
 * key shares one is_active.
 */
export async function createTemplateVersion(
  platform: Platform,
  principal: Principal,
  templateKey: string,
  input: TemplateVersionInputBody,
): Promise<TemplateView> {
  const scope = organizationScope(principal);
  assertSections(input.sections);
  return transaction(platform.database.db, async (trx) => {
    await lockTemplateKey(trx, scope.organizationId, templateKey);
    const latest = await trx
      .selectFrom("generation_templates")
      .select(["version", "is_active"])
      .where("organization_id", "=", scope.organizationId)
      .where("template_key", "=", templateKey)
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!latest) throw errors.templateNotFound();
    const row = await trx
      .insertInto("generation_templates")
      .values({
        organization_id: scope.organizationId,
        template_key: templateKey,
        version: latest.version + 1,
        ...templateFields(input),
        is_active: latest.is_active,
        created_by: scope.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return templateView(row);
  });
}

/** Holds a template key of an organization until the transaction ends: its versions and activity change one at a time. */
export async function lockTemplateKey(trx: Kysely<Tables>, organizationId: string, templateKey: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`generation_template:${organizationId}:${templateKey}`}))`.execute(
    trx,
  );
}

function templateFields(input: TemplateVersionInputBody) {
  return {
    name: input.name,
    description: input.description ?? null,
    sections: JSON.stringify(storedSections(input.sections)),
    tags: input.tags ?? [],
    metadata: JSON.stringify(input.metadata ?? {}),
  };
}

/** What the schema cannot say: each range's min is at most its max, and section ids are unique. */
export function sectionProblems(sections: TemplateSectionView[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  const range = (field: string, r: { min: number; max: number }) => {
    if (r.min > r.max) problems.push({ field, code: "range", message: "min must not exceed max" });
  };
  sections.forEach((section, i) => {
    const at = `body.sections.${i}`;
    if (seen.has(section.id))
      problems.push({ field: `${at}.id`, code: "duplicate", message: "section ids must be unique" });
    seen.add(section.id);
    if (section.type === "text") range(`${at}.wordRange`, section.wordRange);
    else {
      range(`${at}.sectionTemplate.wordRange`, section.sectionTemplate.wordRange);
      if (section.minSections > section.maxSections) {
        problems.push({
          field: `${at}.minSections`,
          code: "range",
          message: "minSections must not exceed maxSections",
        });
      }
    }
  });
  return problems;
}

function assertSections(sections: TemplateSectionView[]): void {
  const problems = sectionProblems(sections);
  if (problems.length > 0) throw errors.validationFailed(problems);
}
