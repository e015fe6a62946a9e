import { sql } from "kysely";
import type { Static } from "typebox";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { SearchResult as HybridResult } from "../../platform/search/hybrid-search.ts";
import type { Platform } from "../../runtime/platform.ts";
import { scoped } from "./entries.ts";
import { ENTRY_SOURCE } from "./entry-text.ts";
import type { SearchResult } from "./schemas.ts";
import { entryFullText, entrySearch } from "./search-sources.ts";

type SearchResultView = Static<typeof SearchResult>;

/** Seed 002's similarity threshold for similar entries. */
export const SIMILARITY_THRESHOLD = 0.7;

/**
 * Seed 002's weighted full-text search over the caller's entries: ranked by
 * ts_rank_cd over title (A) and content (B), with ts_headline snippets
 * (MaxWords=35, MinWords=15, MaxFragments=3). A query of only stop words or
 * punctuation matches nothing.
 */
export async function searchEntries(
  platform: Platform,
  principal: Principal,
  q: string,
  limit: number,
): Promise<SearchResultView[]> {
  const db = platform.database.read;
  // A query of only stop words or punctuation matches nothing (entryFullText checks numnode in the query
  // itself, so the search costs one round trip).
  const tsquery = sql`websearch_to_tsquery('english', ${q})`;
  const rows = await sql<{ id: string; title: string | null; entry_date: string; rank: number; snippet: string }>`
    select e.id, e.title, e.entry_date::text as entry_date, c.score as rank,
      ts_headline('english', e.content, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=3') as snippet
    from (${entryFullText(principal, tsquery, limit)}) c
    join journal_entries e on e.id = c.id
    order by c.score desc, e.id`.execute(db);
  return rows.rows.map((r) => ({
    id: r.id,
    title: r.title,
    entryDate: r.entry_date,
    rank: Number(r.rank),
    snippet: r.snippet,
  }));
}

/** Hybrid search (platform/search) over the caller's entries only. */
export function hybridSearchEntries(
  platform: Platform,
  principal: Principal,
  q: string,
  limit: number,
): Promise<HybridResult> {
  return platform.search.search(principal, q, { kinds: [entrySearch.kind], limit });
}

/**
 * The caller's entries nearest this one by embedding (the source's active
 * model), at least `minSimilarity` alike (seed 002's 0.7 by default). 503
 * pgvector_not_installed without the extension; an empty list while the
 * entry has no vector yet (just written, or still being embedded).
 */
export async function similarEntries(
  platform: Platform,
  principal: Principal,
  entryId: string,
  options: { limit: number; minSimilarity: number },
) {
  const owned = await scoped(platform.database.read, principal)
    .select("id")
    .where("id", "=", entryId)
    .executeTakeFirst();
  if (!owned) throw errors.journalEntryNotFound(entryId);
  const query = await platform.vectors.storedVector(ENTRY_SOURCE, entryId);
  if (!query) return { items: [], model: null };
  const nearest = platform.vectors.nearestQuery(
    ENTRY_SOURCE,
    query,
    (id) => sql<boolean>`${id} <> ${entryId}::uuid and ${entrySearch.visible(principal, id)}`,
    options.limit,
  );
  const rows = await sql<{ id: string; title: string | null; entry_date: string; snippet: string; similarity: number }>`
    select e.id, e.title, e.entry_date::text as entry_date, left(e.content, 200) as snippet, n.similarity
    from (${nearest}) n join journal_entries e on e.id = n.resource_id
    where n.similarity >= ${options.minSimilarity}
    order by n.similarity desc, e.id`.execute(platform.database.read);
  return {
    model: query.model,
    items: rows.rows.map((r) => ({
      id: r.id,
      title: r.title,
      entryDate: r.entry_date,
      snippet: r.snippet,
      similarity: Number(r.similarity),
      model: query.model,
    })),
  };
}
