import type { Kysely } from "kysely";
import type { Tables } from "../src/platform/database/tables.ts";
import { settleDimensions, writeVectors } from "../src/platform/embeddings/embedding-writes.ts";
import { HASHING_MODEL, hashingVectors } from "../src/platform/embeddings/hashing-vectors.ts";
import { textSha256, vectorLiteral } from "../src/platform/embeddings/vector-store.ts";

/**
 * Embeds every resource of a source with the offline hashing model and
 * writes the vectors through Strata's write path (the source's HNSW index
 * exists from the first vector on, as in production): the fast way for a
 * benchmark to give a large corpus its vectors. `page(after)` returns the
 * next resources by id with their texts, none when done. Returns the ids
 * and the dimensions.
 */
export async function embedWithHashing(
  db: Kysely<Tables>,
  source: string,
  page: (after: string | null) => Promise<{ id: string; text: string }[]>,
): Promise<{ ids: string[]; dims: number }> {
  await db
    .insertInto("embedding_models")
    .values({ source, model: HASHING_MODEL, state: "active" })
    .onConflict((oc) => oc.columns(["source", "model"]).doUpdateSet({ state: "active" }))
    .execute();
  const dims = await settleDimensions(db, source, HASHING_MODEL, 384);
  const ids: string[] = [];
  for (let after: string | null = null; ; ) {
    const rows = await page(after);
    if (rows.length === 0) break;
    after = rows.at(-1)?.id ?? null;
    const vectors = hashingVectors(rows.map((r) => r.text));
    await writeVectors(
      db,
      source,
      HASHING_MODEL,
      dims,
      rows.map((r, i) => ({
        resourceId: r.id,
        textSha256: textSha256(r.text),
        literal: vectorLiteral(vectors[i] as number[]),
      })),
      "backfill",
    );
    ids.push(...rows.map((r) => r.id));
  }
  return { ids, dims };
}
