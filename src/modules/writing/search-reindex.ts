import { sql } from "kysely";
import type { Platform } from "../../runtime/platform.ts";
import { SEARCH_COALESCE_MS } from "./search-index.ts";
import { scheduleSearchIndexing } from "./search-indexer.ts";

/** How often the writing worker indexes queued autosaves: every 10 seconds (a seconds field first). */
export const SEARCH_SWEEP_SCHEDULE = "*/10 * * * * *";
const BATCH = 25;

/**
 * Indexes documents queued by autosaves (see search-index.ts) whose entry
 * is older than SEARCH_COALESCE_MS, oldest first, at most `limit` per call;
 * it is also the backstop for large saves whose indexing after commit did
 * not happen (a crash). Each document is indexed as search-indexer.ts does
 * it: in bounded steps, written only if the document still has the content
 * that was indexed (a save that lands meanwhile stays queued, or was indexed
 * by its own save, and the next sweep takes it), never twice at once.
 */
export async function reindexPendingSearch(platform: Platform, limit = BATCH): Promise<number> {
  const db = platform.database.db;
  const due = await db
    .selectFrom("document_search_pending as p")
    .leftJoin("document_search as s", "s.document_id", "p.document_id")
    .select("p.document_id")
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
  for (const { document_id } of due) {
    if (await scheduleSearchIndexing(platform, document_id)) indexed++;
  }
  return indexed;
}
