import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import { SEARCH_COALESCE_MS, SEARCH_TEXT_LIMIT, writeSearchEntry } from "./search-index.ts";
import { readCurrentContent } from "./version-store.ts";

/** How often the writing worker indexes queued autosaves. */
export const SEARCH_SWEEP_INTERVAL_MS = 10_000;
const BATCH = 25;

/**
 * Indexes documents queued by autosaves (see search-index.ts) whose entry
 * is older than SEARCH_COALESCE_MS, oldest first, at most `limit` per call.
 * The content is read outside any transaction (from the blob store, checked
 * against the row's checksum); the entry is written only if the document
 * still has that content, under the document row's lock that saves take, so
 * a save that lands meanwhile is never overwritten by older text: it stays
 * queued (or was indexed by its own save) and the next sweep takes it.
 */
export async function reindexPendingSearch(platform: Platform, limit = BATCH): Promise<number> {
  const db = platform.database.db;
  const due = await db
    .selectFrom("document_search_pending as p")
    .innerJoin("documents as d", "d.id", "p.document_id")
    .leftJoin("document_search as s", "s.document_id", "p.document_id")
    .select([
      "d.id",
      "d.user_id",
      "d.anonymous_session_id",
      "d.organization_id",
      "d.content_key",
      "d.content_sha256",
      "d.current_version_id",
    ])
    .where((eb) =>
      eb.or([
        eb("s.indexed_at", "is", null),
        eb("s.indexed_at", "<=", sql<Date>`now() - make_interval(secs => ${SEARCH_COALESCE_MS / 1000})`),
      ]),
    )
    .orderBy("p.dirty_since")
    .limit(limit)
    .execute();
  let indexed = 0;
  for (const doc of due) {
    const content = await readCurrentContent(db, platform, doc);
    const done = await transaction(db, async (trx) => {
      const now = await trx
        .selectFrom("documents")
        .select("content_sha256")
        .where("id", "=", doc.id)
        .forUpdate()
        .executeTakeFirst();
      if (now?.content_sha256 !== doc.content_sha256) return false;
      await writeSearchEntry(trx, doc.id, content.slice(0, SEARCH_TEXT_LIMIT));
      return true;
    });
    if (done) indexed++;
  }
  return indexed;
}
