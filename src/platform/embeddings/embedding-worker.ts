import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import type { JobContext } from "../jobs/jobs.ts";
import type { Logger } from "../logging/logger.ts";
import { settleDimensions, writeVectors } from "./embedding-writes.ts";
import { textSha256, type VectorStore, vectorLiteral } from "./vector-store.ts";

type Db = Kysely<Tables>;

/** Outbox rows one step embeds: one provider call per model. */
export const EMBED_BATCH = 32;
/** How long a step holds its rows; a worker that dies lets them go after this. */
const CLAIM_SECONDS = 120;

/**
 * The embed job: works through a source's outbox in steps of EMBED_BATCH
 * until it is empty. Each step claims rows (skipping rows another worker
 * holds), reads their texts as they are now, embeds them with every model
 * the source keeps (the active one and one being built), and writes the
 * vectors in one transaction that keeps only rows whose outbox entry still
 * names the embedded text, removing those entries. A text edited after the
 * claim keeps its (newer) entry for the next step; a resource deleted
 * meanwhile has none, and nothing is written for it.
 */
export async function embedQueued(
  store: VectorStore,
  db: Db,
  sourceName: string,
  logger: Logger,
  context: Pick<JobContext, "stopping" | "signal">,
): Promise<number> {
  const source = store.source(sourceName);
  let embedded = 0;
  for (;;) {
    context.stopping.throwIfAborted();
    const models = await db
      .selectFrom("embedding_models")
      .select(["model", "dimensions"])
      .where("source", "=", sourceName)
      .where("state", "in", ["active", "building"])
      .execute();
    // Before the first model is set up (model-lifecycle.ts) rows wait; setting it up runs this job again.
    if (models.length === 0) return embedded;
    const claimed = await sql<{ resource_id: string; text_sha256: string }>`
      update embedding_outbox set claimed_until = now() + make_interval(secs => ${CLAIM_SECONDS})
      where source = ${sourceName} and resource_id in (
        select resource_id from embedding_outbox
        where source = ${sourceName} and (claimed_until is null or claimed_until < now())
        order by queued_at
        limit ${EMBED_BATCH}
        for update skip locked)
      returning resource_id, text_sha256`.execute(db);
    if (claimed.rows.length === 0) return embedded;
    const ids = claimed.rows.map((r) => r.resource_id);
    const texts = await source.loadTexts(db, ids);
    const present = ids.filter((id) => texts.has(id));
    const digests = new Map(present.map((id) => [id, textSha256(texts.get(id) as string)]));
    const vectors = new Map<string, { dimensions: number; literals: string[] }>();
    for (const { model } of models) {
      const embedder = store.embedders.forModel(model);
      if (!embedder) {
        logger.warn({ source: sourceName, model }, "no embedder for a kept model in this process; its vectors wait");
        continue;
      }
      if (present.length === 0) continue;
      const made = await embedder.embed(
        present.map((id) => texts.get(id) as string),
        { signal: context.signal },
      );
      vectors.set(model, { dimensions: made[0]?.length ?? 0, literals: made.map(vectorLiteral) });
    }
    await transaction(db, async (trx) => {
      for (const [model, made] of vectors) {
        const dimensions = await settleDimensions(trx, sourceName, model, made.dimensions);
        if (dimensions !== made.dimensions) {
          logger.error({ source: sourceName, model, dimensions, got: made.dimensions }, "embedder changed dimension");
          continue;
        }
        const rows = present.map((id, i) => ({
          resourceId: id,
          textSha256: digests.get(id) as string,
          literal: made.literals[i] as string,
        }));
        embedded += await writeVectors(trx, sourceName, model, dimensions, rows, "outbox");
      }
      // Done: entries that still name the text embedded, and entries of resources that are gone.
      const gone = ids.filter((id) => !texts.has(id));
      if (gone.length > 0) {
        await trx
          .deleteFrom("embedding_outbox")
          .where("source", "=", sourceName)
          .where("resource_id", "in", gone)
          .execute();
      }
      if (vectors.size > 0 && present.length > 0) {
        const done = sql.join(present.map((id) => sql`(${id}::uuid, ${digests.get(id) as string})`));
        await sql`
          delete from embedding_outbox
          where source = ${sourceName} and (resource_id, text_sha256) in (values ${done})`.execute(trx);
      }
    });
  }
}
