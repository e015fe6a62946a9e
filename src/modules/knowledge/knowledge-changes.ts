import type { Kysely } from "kysely";
import { sql } from "kysely";
import { type ChangeTopic, subjectTopic } from "../../platform/changes/change.ts";
import type { Tables } from "../../platform/database/tables.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { AnyKind } from "./kinds.ts";

export const KNOWLEDGE_TOPIC = "knowledge";

/**
 * The `knowledge` topic of the change feed: every change to an entry the
 * subscriber may read (the system's, its organization's). `knowledge:<id>`
 * follows one entry, which must be readable at subscription.
 */
export function knowledgeTopic(platform: Platform): ChangeTopic {
  return subjectTopic({
    name: KNOWLEDGE_TOPIC,
    notFound: "knowledge_entry_not_found",
    sees: async (principal, subject) => {
      const visible = await sql<{ id: string }>`
        select id from (
          select id, organization_id from knowledge_rules union all
          select id, organization_id from knowledge_practices union all
          select id, organization_id from knowledge_templates
        ) k where id = ${subject} and (organization_id is null or organization_id = ${principal.organizationId})`.execute(
        platform.database.read,
      );
      return visible.rows.length > 0;
    },
  });
}

/** What happened to an entry, from its row before and after a write. */
function eventOf(spec: AnyKind, before: Record<string, unknown> | null, after: Record<string, unknown>): string {
  if (before === null) return `${spec.kind}.created`;
  const was = before[spec.activeColumn];
  const is = after[spec.activeColumn];
  if (was && !is) return `${spec.kind}.deleted`;
  if (!was && is) return `${spec.kind}.restored`;
  return `${spec.kind}.updated`;
}

/** Records an entry's change in the write's transaction: delivered to subscribers once it commits. */
export async function recordEntryChange(
  platform: Platform,
  trx: Kysely<Tables>,
  spec: AnyKind,
  row: Record<string, unknown>,
  before: Record<string, unknown> | null,
): Promise<void> {
  await platform.changes.record(trx, {
    topic: KNOWLEDGE_TOPIC,
    subject: row.id as string,
    event: eventOf(spec, before, row),
    audience: { organizationId: row.organization_id as string | null },
    data: { kind: spec.kind, entry: spec.view(row) },
  });
}
