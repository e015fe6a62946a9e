import { sql } from "kysely";
import type { Principal } from "../../platform/identity/principal.ts";
import { beforeCursor, decodeCursor, encodeCursor, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { scoped } from "./entries.ts";
import type { EntryView } from "./schemas.ts";
import { loadEntryViews } from "./views.ts";

export interface EntryFilters {
  /** entry_date from and to, inclusive. */
  from?: string;
  to?: string;
  topicId?: string;
  moodMin?: number;
  moodMax?: number;
  limit: number;
  cursor?: string;
}

/**
 * The caller's entries, newest first, by seed 002's cursor pagination
 * (created_at, then id to break ties), filtered by entry date, topic and
 * mood. An unknown topic id filters everything out (an empty page).
 */
export async function listEntries(
  platform: Platform,
  principal: Principal,
  filters: EntryFilters,
): Promise<Page<EntryView>> {
  let query = scoped(platform.database.read, principal).select(["id", "created_at"]);
  if (filters.from) query = query.where("entry_date", ">=", filters.from);
  if (filters.to) query = query.where("entry_date", "<=", filters.to);
  if (filters.moodMin !== undefined) query = query.where("mood_score", ">=", String(filters.moodMin));
  if (filters.moodMax !== undefined) query = query.where("mood_score", "<=", String(filters.moodMax));
  if (filters.topicId) {
    const topicId = filters.topicId;
    query = query.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("entry_topics")
          .select(sql`1`.as("one"))
          .whereRef("entry_topics.entry_id", "=", "journal_entries.id")
          .where("entry_topics.topic_id", "=", topicId),
      ),
    );
  }
  const after = decodeCursor(filters.cursor);
  if (after) query = query.where(beforeCursor(after, "created_at", "id"));
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filters.limit + 1)
    .execute();
  const page = rows.slice(0, filters.limit);
  const last = page.at(-1);
  return {
    items: await loadEntryViews(
      platform.database.read,
      page.map((r) => r.id),
    ),
    nextCursor:
      rows.length > filters.limit && last ? encodeCursor({ at: new Date(last.created_at), id: last.id }) : null,
  };
}
