import { createHash } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";

type Db = Kysely<Tables>;

/** One vector to store: the text's digest it was made from, and the vector's text form. */
export interface VectorRow {
  resourceId: string;
  textSha256: string;
  literal: string;
}

/** The partial HNSW index of one source's vectors of one model (names are bounded; the digest keeps them apart). */
export function modelIndexName(source: string, model: string): string {
  return `embeddings_hnsw_${createHash("sha256").update(source).update("\n").update(model).digest("hex").slice(0, 16)}`;
}

/**
 * Records a (source, model)'s dimension when its first vector tells it, and
 * creates its HNSW index then, while it covers no rows (building it is
 * instant; later rows are added to it as they are written). In the
 * caller's transaction, so the dimension and the index appear together.
 * Returns the dimension the model is held to.
 */
export async function settleDimensions(trx: Db, source: string, model: string, dimensions: number): Promise<number> {
  const set = await trx
    .updateTable("embedding_models")
    .set({ dimensions })
    .where("source", "=", source)
    .where("model", "=", model)
    .where("dimensions", "=", 0)
    .returning("dimensions")
    .executeTakeFirst();
  if (set) {
    const dims = sql.lit(dimensions);
    await sql`
      create index if not exists ${sql.id(modelIndexName(source, model))} on embeddings
      using hnsw ((embedding::vector(${dims})) vector_cosine_ops)
      where source = ${sql.lit(source)} and model = ${sql.lit(model)}`.execute(trx);
    return dimensions;
  }
  const row = await trx
    .selectFrom("embedding_models")
    .select("dimensions")
    .where("source", "=", source)
    .where("model", "=", model)
    .executeTakeFirst();
  return row?.dimensions ?? dimensions;
}

/**
 * Writes vectors of one model, replacing any for the same resources.
 * `onlyIfQueued`: the outbox's write, kept only where the outbox row still
 * names the text that was embedded (a newer edit queued another, or a
 * delete removed it: then nothing is written). Otherwise (re-embedding under
 * a new model) a resource with an outbox row is left to the outbox, which
 * has its newer text, and an existing vector is kept.
 */
export async function writeVectors(
  trx: Db,
  source: string,
  model: string,
  dimensions: number,
  rows: readonly VectorRow[],
  mode: "outbox" | "backfill",
): Promise<number> {
  if (rows.length === 0) return 0;
  const values = sql.join(rows.map((r) => sql`(${r.resourceId}::uuid, ${r.textSha256}, ${r.literal}::vector)`));
  const guard =
    mode === "outbox"
      ? sql`exists (select 1 from embedding_outbox o where o.source = ${source} and o.resource_id = v.resource_id and o.text_sha256 = v.text_sha256)`
      : sql`not exists (select 1 from embedding_outbox o where o.source = ${source} and o.resource_id = v.resource_id)`;
  const conflict =
    mode === "outbox"
      ? sql`do update set text_sha256 = excluded.text_sha256, embedding = excluded.embedding, dimensions = excluded.dimensions, embedded_at = now()`
      : sql`do nothing`;
  const written = await sql`
    insert into embeddings (source, resource_id, model, dimensions, text_sha256, embedding)
    select ${source}, v.resource_id, ${model}, ${dimensions}, v.text_sha256, v.embedding
    from (values ${values}) as v (resource_id, text_sha256, embedding)
    where ${guard}
    on conflict (source, resource_id, model) ${conflict}`.execute(trx);
  return Number(written.numAffectedRows ?? 0);
}
