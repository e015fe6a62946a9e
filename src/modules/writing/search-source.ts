import { type Expression, type RawBuilder, sql } from "kysely";
import { ownerCondition } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Candidate, SearchSource } from "../../platform/search/search-source.ts";

/** The caller's live documents, as a condition on the `d` alias. */
function ownedBy(principal: Principal): RawBuilder<boolean> {
  return sql<boolean>`${ownerCondition(principal, "d")} and d.deleted_at is null`;
}

/**
 * Documents in cross-module search (`GET /v1/search`): full text over the
 * search entry's weighted vector (title A, description B, text C; see
 * search-index.ts) and trigram similarity to the title. Documents are not
 * embedded yet, so they take part by words; their snippets come from the
 * indexed text.
 */
export const documentSearch: SearchSource = {
  module: "writing",
  kind: "document",
  embedding: null,
  visible(principal: Principal, id: RawBuilder<string>): Expression<boolean> {
    return sql<boolean>`${id} in (select d.id from documents d where ${ownedBy(principal)})`;
  },
  fullText(principal, tsquery, limit) {
    return sql<Candidate>`
      select d.id, ts_rank_cd(s.search_vector, ${tsquery})::float8 as score
      from documents d join document_search s on s.document_id = d.id
      where ${ownedBy(principal)} and s.search_vector @@ ${tsquery}
      order by score desc, d.id
      limit ${limit}`;
  },
  trigram(principal, text, limit) {
    return sql<Candidate>`
      select d.id, word_similarity(${text}, d.title)::float8 as score
      from documents d
      where ${ownedBy(principal)} and ${text} <% d.title
      order by score desc, d.id
      limit ${limit}`;
  },
  async describe(db, ids, tsquery) {
    const rows = await sql<{ id: string; title: string; snippet: string | null }>`
      select d.id, d.title,
        ts_headline('english', s.search_text, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') as snippet
      from documents d left join document_search s on s.document_id = d.id
      where d.id = any(${sql.val([...ids])}::uuid[])`.execute(db);
    return new Map(
      rows.rows.map((r) => [r.id, { title: r.title, snippet: r.snippet ?? "", url: `/v1/documents/${r.id}` }]),
    );
  },
};
