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
  for (const [i, keyword] of keywords.entries()) {
    const query = queries[i];
    if (!query) continue;
    const nearest = platform.vectors.nearestQuery(
      TOPIC_SOURCE,
      query,
      (id) =>
        sql<boolean>`${id} in (select t.id from topics t where t.is_system_topic or ${sql.ref(`t.${owner.column}`)} = ${owner.id})`,
      1,
    );
    const row = await sql<{ id: string; name: string; similarity: number }>`
      select t.id, t.name, n.similarity from (${nearest}) n join topics t on t.id = n.resource_id`.execute(db);
    const best = row.rows[0];
    if (best && Number(best.similarity) >= TOPIC_VECTOR_THRESHOLD) found.set(keyword, { id: best.id, name: best.name });
  }
  return found;
}
