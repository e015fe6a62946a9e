import { type Expression, type RawBuilder, sql } from "kysely";
import type { EmbeddingSource } from "../../platform/embeddings/embedding-sources.ts";
import { ownerCondition } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Candidate, SearchSource } from "../../platform/search/search-source.ts";
import { FILE_CHUNK_SOURCE } from "./files.ts";

/** File chunks' texts for the platform's embeddings (seed 003's Weaviate Document class), with the passage model. */
export const fileChunkEmbeddings: EmbeddingSource = {
  name: FILE_CHUNK_SOURCE,
  modelClass: "passage",
  async loadTexts(db, ids) {
    const rows = await db.selectFrom("file_chunks").select(["id", "content"]).where("id", "in", ids).execute();
    return new Map(rows.map((r) => [r.id, r.content]));
  },
  async listIds(db, after, limit) {
    let query = db.selectFrom("file_chunks").select("id").orderBy("id").limit(limit);
    if (after) query = query.where("id", ">", after);
    return (await query.execute()).map((r) => r.id);
  },
};

/**
 * The caller's ready files' chunks, as a condition on `f` (files): all of
 * them, or only those of `fileIds` (a chat's attached files).
 */
function chunksOf(principal: Principal, fileIds: readonly string[] | null): RawBuilder<boolean> {
  const within = fileIds ? sql` and f.id = any(${sql.val([...fileIds])}::uuid[])` : sql``;
  return sql<boolean>`${ownerCondition(principal, "f")} and f.status = 'ready'${within}`;
}

/**
 * File chunks in hybrid search (`/v1/search`, `/v1/files/search`): full
 * text over each chunk's words, trigram similarity of the query to the
 * file's name (a chunk's content is too long to measure cheaply), and the
 * chunks' vectors. Only the caller's files, and only once processed.
 */
export const fileChunkSearch: SearchSource = fileChunkSearchWithin(null);

/** File chunk search within some of the caller's files only (null: all of them). */
export function fileChunkSearchWithin(fileIds: readonly string[] | null): SearchSource {
  return {
    module: "chat",
    kind: "file_chunk",
    embedding: fileChunkEmbeddings,
    visible(principal: Principal, id: RawBuilder<string>): Expression<boolean> {
      return sql<boolean>`${id} in (select c.id from file_chunks c join files f on f.id = c.file_id where ${chunksOf(principal, fileIds)})`;
    },
    fullText(principal, tsquery, limit) {
      return sql<Candidate>`
      select c.id, ts_rank_cd(c.content_vector, ${tsquery})::float8 as score
      from file_chunks c join files f on f.id = c.file_id
      where ${chunksOf(principal, fileIds)} and numnode(${tsquery}) > 0 and c.content_vector @@ ${tsquery}
      order by score desc, c.id
      limit ${limit}`;
    },
    trigram(principal, text, limit) {
      return sql<Candidate>`
      select c.id, word_similarity(${text}, f.filename)::float8 as score
      from files f join file_chunks c on c.file_id = f.id and c.chunk_index = 0
      where ${chunksOf(principal, fileIds)} and ${text} <% f.filename
      order by score desc, c.id
      limit ${limit}`;
    },
    async describe(db, ids, tsquery) {
      const rows = await sql<{ id: string; file_id: string; filename: string; snippet: string }>`
      select c.id, c.file_id, f.filename,
        ts_headline('english', c.content, ${tsquery}, 'StartSel=<mark>, StopSel=</mark>, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "') as snippet
      from file_chunks c join files f on f.id = c.file_id
      where c.id = any(${sql.val([...ids])}::uuid[])`.execute(db);
      return new Map(
        rows.rows.map((r) => [r.id, { title: r.filename, snippet: r.snippet, url: `/v1/files/${r.file_id}` }]),
      );
    },
  };
}
