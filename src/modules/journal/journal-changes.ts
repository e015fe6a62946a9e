import type { Kysely } from "kysely";
import { type Audience, type ChangeTopic, subjectTopic } from "../../platform/changes/change.ts";
import type { Tables } from "../../platform/database/tables.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { AnalysisResult } from "./analysis.ts";
import { scoped } from "./entries.ts";

export const JOURNAL_TOPIC = "journal";

/**
 * The `journal` topic of the change feed: analysis results of the
 * subscriber's own entries, as each analysis commits. `journal:<id>`
 * follows one entry, which must be the caller's at subscription.
 */
export function journalTopic(platform: Platform): ChangeTopic {
  return subjectTopic({
    name: JOURNAL_TOPIC,
    notFound: "journal_entry_not_found",
    sees: async (principal, subject) =>
      (await scoped(platform.database.read, principal).select("id").where("id", "=", subject).executeTakeFirst()) !==
      undefined,
  });
}

/** Records an entry's analysis in the transaction that stores it. */
export function recordAnalysis(
  platform: Platform,
  trx: Kysely<Tables>,
  audience: Audience,
  result: AnalysisResult,
): Promise<void> {
  return platform.changes.record(trx, {
    topic: JOURNAL_TOPIC,
    subject: result.entryId,
    event: "analysis.completed",
    audience,
    data: { analysis: result },
  });
}
