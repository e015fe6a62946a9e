import { type RawBuilder, sql } from "kysely";
import type { EmbeddingSource } from "../../platform/embeddings/embedding-sources.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { SearchKind } from "../../platform/search/schemas.ts";
import type { Candidate, SearchSource } from "../../platform/search/search-source.ts";
import { type AnyKind, KINDS } from "./kinds.ts";

/** Each kind's texts for the platform's embeddings (title and description), with the passage model. */
function embeddingsOf(spec: AnyKind): EmbeddingSource {
  return {
    name: spec.source,
    modelClass: "passage",
    async loadTexts(db, ids) {
      const rows = await (db as any).selectFrom(spec.table).selectAll().where("id", "in", ids).execute();
      return new Map(rows.map((r: { id: string }) => [r.id, spec.embedText(r)]));
    },
    async listIds(db, after, limit) {
      let query = (db as any).selectFrom(spec.table).select("id").orderBy("id").limit(limit);
      if (after) query = query.where("id", ">", after);
      return (await query.execute()).map((r: { id: string }) => r.id);
    },
  };
}

/** Active entries the principal may read, as a condition on the `k` alias. */
function readable(spec: AnyKind, principal: Principal): RawBuilder<boolean> {
  return sql<boolean>`(k.organization_id is null or k.organization_id = ${principal.organizationId}) and k.${sql.ref(spec.activeColumn)}`;
}

/**
 * A kind in hybrid search (`/v1/knowledge/search`, `/v1/search`): full
 * text over the seed's indexed expression (title and description), trigram
 * similarity of the query to the title, and the entries' vectors. Only
 * active entries, the system's and the caller's organization's.
 */
function searchOf(spec: AnyKind, embedding: EmbeddingSource): SearchSource {
  const table = sql.table(spec.table);
  const title = sql.ref(`k.${spec.titleColumn}`);
  // Unqualified, exactly as the seed's index is written (the planner matches the expression).
  const document = sql.raw(`to_tsvector('english', ${spec.searchText})`);
  return {
    module: "knowledge",
    kind: `knowledge_${spec.kind}` as SearchKind,
    embedding,
    visible(principal, id) {
      return sql<boolean>`${id} in (select k.id from ${table} k where ${readable(spec, principal)})`;
    },
    fullText(principal, tsquery, limit) {
      return sql<Candidate>`
        select k.id, ts_rank_cd(${document}, ${tsquery})::float8 as score
        from ${table} k
        where ${readable(spec, principal)} and numnode(${tsquery}) > 0 and ${document} @@ ${tsquery}
        order by score desc, k.id
        limit ${limit}`;
    },
    trigram(principal, text, limit) {
      return sql<Candidate>`
        select k.id, word_similarity(${text}, ${title})::float8 as score
        from ${table} k
        where ${readable(spec, principal)} and ${text} <% ${title}
        order by score desc, k.id
        limit ${limit}`;
    },
    async describe(db, ids, tsquery) {
      const rows = await sql<{ id: string; title: string; snippet: string }>`
        select k.id, ${title} as title,
          ts_headline('english', coalesce(k.description, ''), ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') as snippet
        from ${table} k where k.id = any(${sql.val([...ids])}::uuid[])`.execute(db);
      return new Map(
        rows.rows.map((r) => [
          r.id,
          { title: r.title, snippet: r.snippet, url: `/v1/knowledge/${spec.plural}/${r.id}` },
        ]),
      );
    },
  };
}

export const knowledgeEmbeddings: EmbeddingSource[] = KINDS.map(embeddingsOf);
export const knowledgeSearch: SearchSource[] = KINDS.map((spec, i) =>
  searchOf(spec, knowledgeEmbeddings[i] as EmbeddingSource),
);
export const KNOWLEDGE_SEARCH_KINDS = knowledgeSearch.map((s) => s.kind);
