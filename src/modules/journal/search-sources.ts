import { type Expression, type RawBuilder, sql } from "kysely";
import type { EmbeddingSource } from "../../platform/embeddings/embedding-sources.ts";
import { ownerCondition } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Candidate, SearchSource } from "../../platform/search/search-source.ts";
import { ENTRY_SOURCE, entryText } from "./entry-text.ts";

/** Entries' texts for the platform's embeddings: seed 002's `title\n\ncontent`, with the passage model. */
export const entryEmbeddings: EmbeddingSource = {
  name: ENTRY_SOURCE,
  modelClass: "passage",
  async loadTexts(db, ids) {
    const rows = await db
      .selectFrom("journal_entries")
      .select(["id", "title", "content"])
      .where("id", "in", ids)
      .execute();
    return new Map(rows.map((r) => [r.id, entryText(r.title, r.content)]));
  },
  async listIds(db, after, limit) {
    let query = db.selectFrom("journal_entries").select("id").orderBy("id").limit(limit);
    if (after) query = query.where("id", ">", after);
    return (await query.execute()).map((r) => r.id);
  },
};

/** The caller's entries, as a condition on the `e` alias (`journal_entries e`). */
function ownedBy(principal: Principal): RawBuilder<boolean> {
  return ownerCondition(principal, "e");
}

/** Seed 002's weighted full-text rank: ts_rank_cd over title (A) and content (B), the stored content_vector. */
export function entryFullText(
  principal: Principal,
  tsquery: RawBuilder<unknown>,
  limit: number,
): RawBuilder<Candidate> {
  return sql<Candidate>`
    select e.id, ts_rank_cd(e.content_vector, ${tsquery})::float8 as score
    from journal_entries e
    where ${ownedBy(principal)} and e.content_vector @@ ${tsquery}
    order by score desc, e.id
    limit ${limit}`;
}

/** A content match counts this much of a title match, as full text weighs B against A. */
const CONTENT_TRIGRAM_WEIGHT = 0.8;

/**
 * Fuzzy matches by trigram word similarity of the query to the title or
 * the content (`<%`, served by the trigram indexes on both): finds
 * misspelled and partial words full text misses; a title match weighs more.
 */
export function entryTrigram(principal: Principal, text: string, limit: number): RawBuilder<Candidate> {
  return sql<Candidate>`
    select e.id, greatest(
      coalesce(word_similarity(${text}, e.title), 0),
      ${CONTENT_TRIGRAM_WEIGHT} * word_similarity(${text}, e.content))::float8 as score
    from journal_entries e
    where ${ownedBy(principal)} and (${text} <% e.title or ${text} <% e.content)
    order by score desc, e.id
    limit ${limit}`;
}

export const entrySearch: SearchSource = {
  module: "journal",
  kind: "journal_entry",
  embedding: entryEmbeddings,
  visible(principal: Principal, id: RawBuilder<string>): Expression<boolean> {
    return sql<boolean>`${id} in (select e.id from journal_entries e where ${ownedBy(principal)})`;
  },
  fullText: entryFullText,
  trigram: entryTrigram,
  async describe(db, ids, tsquery) {
    const rows = await sql<{ id: string; title: string | null; snippet: string }>`
      select e.id, e.title,
        ts_headline('english', e.content, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=35, MinWords=15, MaxFragments=3') as snippet
      from journal_entries e where e.id = any(${sql.val([...ids])}::uuid[])`.execute(db);
    return new Map(
      rows.rows.map((r) => [r.id, { title: r.title, snippet: r.snippet, url: `/v1/journal/entries/${r.id}` }]),
    );
  },
};
