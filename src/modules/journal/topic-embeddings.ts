import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import type { EmbeddingSource } from "../../platform/embeddings/embedding-sources.ts";
import type { Platform } from "../../runtime/platform.ts";

/** The embedding source of topics: seed 002's smaller model embeds their names and descriptions. */
export const TOPIC_SOURCE = "journal.topics";

/**
 * A keyword names a topic by meaning when their vectors are at least this
 * alike (cosine). Lower than similar entries' 0.7: a single word against a
 * name and a few words of description is a looser comparison.
 */
export const TOPIC_VECTOR_THRESHOLD = 0.5;

/** What a topic's vector is made of: its name, and its description when it has one. */
export function topicText(name: string, description: string | null): string {
  return description ? `${name}: ${description}` : name;
}

export const topicEmbeddings: EmbeddingSource = {
  name: TOPIC_SOURCE,
  modelClass: "short",
  async loadTexts(db, ids) {
    const rows = await db.selectFrom("topics").select(["id", "name", "description"]).where("id", "in", ids).execute();
    return new Map(rows.map((r) => [r.id, topicText(r.name, r.description)]));
  },
  async listIds(db, after, limit) {
    let query = db.selectFrom("topics").select("id").orderBy("id").limit(limit);
    if (after) query = query.where("id", ">", after);
    return (await query.execute()).map((r) => r.id);
  },
};

/**
 * The closest topic the owner may use (the system's and their own) to each
 * keyword by meaning, when one is at least TOPIC_VECTOR_THRESHOLD alike:
 * what trigram similarity cannot see ("homework" and the system's "study").
 * Empty when vectors are unavailable or topics have no model yet: the
 * analysis then matches by trigram alone.
 */
export async function topicsByMeaning(
  platform: Platform,
  db: Kysely<Tables>,
  owner: { column: "user_id" | "anonymous_session_id"; id: string },
  keywords: readonly string[],
): Promise<Map<string, { id: string; name: string }>> {
  const found = new Map<string, { id: string; name: string }>();
  if (keywords.length === 0 || !(await platform.vectors.support()).available) return found;
  const queries = await platform.vectors.queryVectors(TOPIC_SOURCE, keywords);
  const asked = keywords.flatMap((keyword, i) => {
    const query = queries[i];
    return query ? [{ keyword, query }] : [];
  });
  const first = asked[0]?.query;
  if (!first) return found;
  // One statement for every keyword (each its own nearest-neighbour scan), not one per keyword.
  const dims = sql.lit(first.dimensions);
  const rows = await sql<{ keyword: string; id: string; name: string; similarity: number }>`
    select k.keyword, n.id, n.name, n.similarity
    from unnest(${sql.val(asked.map((a) => a.keyword))}::text[], ${sql.val(asked.map((a) => a.query.literal))}::text[])
      as k (keyword, literal)
    cross join lateral (
      select t.id, t.name, 1 - (e.embedding::vector(${dims}) <=> k.literal::vector(${dims})) as similarity
      from embeddings e join topics t on t.id = e.resource_id
      where e.source = ${sql.lit(TOPIC_SOURCE)} and e.model = ${sql.lit(first.model)}
        and (t.is_system_topic or ${sql.ref(`t.${owner.column}`)} = ${owner.id})
      order by e.embedding::vector(${dims}) <=> k.literal::vector(${dims})
      limit 1
    ) n`.execute(db);
  for (const row of rows.rows) {
    if (Number(row.similarity) >= TOPIC_VECTOR_THRESHOLD) found.set(row.keyword, { id: row.id, name: row.name });
  }
  return found;
}
