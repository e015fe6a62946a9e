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
    where ${ownedBy(principal)} and numnode(${tsquery}) > 0 and e.content_vector @@ ${tsquery}
    order by score desc, e.id
    limit ${limit}`;
}

/** A content match counts this much of a title match, as full text weighs B against A. */
const CONTENT_TRIGRAM_WEIGHT = 0.8;

/** Vocabulary words each query word may be corrected to, the most similar first. */
const CORRECTIONS_PER_WORD = 3;

/**
 * Typo-tolerant matches, finding misspelled and partial words full text
 * misses, two ways, each served by an index:
 * - titles by trigram word similarity to the query (`<%`, the title's
 *   trigram index);
 * - contents by correction: each query word of three letters or more is
 *   matched by trigram similarity (`%`) to the vocabulary of words entries
 *   hold (journal_lexemes, small and indexed), and for each of the closest
 *   words the newest entries holding it are found through the full-text
 *   index, scored by that word's similarity. Measuring trigram similarity
 *   against every candidate's whole content instead cost most of a second
 *   at 100,000 entries.
 * A title match weighs more, as in full text. Words holding a quote or a
 * backslash are never corrections: quote_literal would escape them in a
 * form tsquery's own syntax reads differently.
 */
export function entryTrigram(principal: Principal, text: string, limit: number): RawBuilder<Candidate> {
  return sql<Candidate>`
    with words as (
      select distinct w from regexp_split_to_table(lower(${text}), '[^[:alnum:]]+') w where length(w) >= 3
    ),
    fixes as (
      select f.lexeme, max(f.sim) as sim
      from words cross join lateral (
        select l.lexeme, similarity(l.lexeme, words.w) as sim
        from journal_lexemes l
        where l.lexeme % words.w and l.lexeme !~ '[''\\\\]'
        order by sim desc, l.lexeme
        limit ${CORRECTIONS_PER_WORD}
      ) f
      group by f.lexeme
    ),
    content_hits as (
      select h.id, max(x.sim) as sim
      from fixes x cross join lateral (
        select e.id from journal_entries e
        where ${ownedBy(principal)} and e.content_vector @@ to_tsquery('simple', quote_literal(x.lexeme))
        order by e.created_at desc, e.id desc
        limit ${limit}
      ) h
      group by h.id
    ),
    title_hits as (
      select e.id, word_similarity(${text}, e.title) as sim
      from journal_entries e
      where ${ownedBy(principal)} and ${text} <% e.title
      order by sim desc, e.id
      limit ${limit}
    )
    select id, max(score)::float8 as score
    from (
      select id, sim as score from title_hits
      union all
      select id, ${CONTENT_TRIGRAM_WEIGHT} * sim as score from content_hits
    ) hits
    group by id
    order by score desc, id
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
