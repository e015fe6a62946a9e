import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { transaction } from "../database/transaction.ts";
import type { JobContext, JobService } from "../jobs/jobs.ts";
import type { Logger } from "../logging/logger.ts";
import { modelIndexName, settleDimensions, writeVectors } from "./embedding-writes.ts";
import { EMBED_QUEUE, textSha256, type VectorStore, vectorLiteral } from "./vector-store.ts";

type Db = Kysely<Tables>;

export const BACKFILL_QUEUE = "embeddings.backfill";
export const RETIRE_QUEUE = "embeddings.retire";

/** How a model change re-embeds: resources per step, and the pause between steps (the throttle). */
export interface BackfillOptions {
  batchSize: number;
  pauseMs: number;
}

/** Vectors a retiring model's clean-up deletes per statement. */
const RETIRE_BATCH = 1_000;

/*
 * A source's models move through three states (embedding_models):
 * - building: the configured model, being filled in throttled steps
 *   (backfill below) while queries keep using the active one; the outbox
 *   embeds new and edited texts with both, so neither falls behind;
 * - active: the model queries use; a building model becomes active when its
 *   walk over the source's resources ends, in one transaction that retires
 *   the previous one;
 * - retiring: its vectors are deleted in batches, then its index, then it.
 * A fresh install has nothing to walk, so its first model becomes active at
 * once.
 */

/**
 * At worker start: makes the configured model of each source the active one
 * or the one being built, resumes an interrupted build, abandons a build of
 * a model no longer configured, and runs each source's outbox once (rows
 * queued before any model was set up).
 */
export async function reconcileModels(store: VectorStore, db: Db, jobs: JobService, logger: Logger): Promise<void> {
  if (!(await store.support()).available) return;
  for (const source of store.sources()) {
    const target = store.embedders.forClass(source.modelClass).model;
    await transaction(db, async (trx) => {
      const rows = await trx
        .selectFrom("embedding_models")
        .select(["model", "state", "backfill_after", "started_at"])
        .where("source", "=", source.name)
        .forUpdate()
        .execute();
      for (const row of rows) {
        if (row.state === "building" && row.model !== target) {
          logger.info(
            { source: source.name, model: row.model },
            "abandoning the re-embedding of a model no longer configured",
          );
          await retire(trx, jobs, source.name, row.model);
        }
      }
      const current = rows.find((r) => r.model === target);
      if (current?.state === "active") return;
      if (!current || current.state === "retiring") {
        // Configured again before its clean-up finished: it starts over (its remaining vectors are kept where current).
        const started = await trx
          .insertInto("embedding_models")
          .values({ source: source.name, model: target, state: "building" })
          .onConflict((oc) =>
            oc
              .columns(["source", "model"])
              .doUpdateSet({ state: "building", backfill_after: null, started_at: sql`now()` }),
          )
          .returning(["started_at", "backfill_after"])
          .executeTakeFirstOrThrow();
        logger.info({ source: source.name, model: target }, "embedding the source with the configured model");
        await enqueueStep(trx, jobs, source.name, target, started.started_at, null, 0);
        return;
      }
      await enqueueStep(trx, jobs, source.name, target, current.started_at, current.backfill_after, 0);
    });
    await jobs.enqueue(db, { queue: EMBED_QUEUE, payload: { source: source.name } });
  }
}

/**
 * One step of a build: embeds the next `batchSize` resources (by id) that
 * have no current vector of the model, records the position, and enqueues
 * the next step `pauseMs` later; at the end, makes the model active.
 */
export async function backfillStep(
  store: VectorStore,
  db: Db,
  jobs: JobService,
  payload: { source: string; model: string },
  options: BackfillOptions,
  context: Pick<JobContext, "signal">,
): Promise<void> {
  const row = await db
    .selectFrom("embedding_models")
    .select(["state", "backfill_after", "started_at"])
    .where("source", "=", payload.source)
    .where("model", "=", payload.model)
    .executeTakeFirst();
  if (row?.state !== "building") return;
  const source = store.source(payload.source);
  const ids = await source.listIds(db, row.backfill_after, options.batchSize);
  if (ids.length === 0) {
    await activate(db, jobs, payload.source, payload.model);
    return;
  }
  const embedder = store.embedders.forModel(payload.model);
  if (!embedder) throw new Error(`no embedder for model ${payload.model} in this process`);
  const texts = await source.loadTexts(db, ids);
  const current = await db
    .selectFrom("embeddings")
    .select(["resource_id", "text_sha256"])
    .where("source", "=", payload.source)
    .where("model", "=", payload.model)
    .where("resource_id", "in", ids)
    .execute();
  const have = new Map(current.map((r) => [r.resource_id, r.text_sha256]));
  const todo = ids.filter((id) => texts.has(id) && have.get(id) !== textSha256(texts.get(id) as string));
  const vectors =
    todo.length > 0
      ? await embedder.embed(
          todo.map((id) => texts.get(id) as string),
          { signal: context.signal },
        )
      : [];
  const last = ids.at(-1) as string;
  await transaction(db, async (trx) => {
    // Fenced on the position this step read: a second copy of the step writes nothing twice.
    const moved = await trx
      .updateTable("embedding_models")
      .set({ backfill_after: last })
      .where("source", "=", payload.source)
      .where("model", "=", payload.model)
      .where("state", "=", "building")
      .where(sql<boolean>`backfill_after is not distinct from ${row.backfill_after}::uuid`)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return;
    if (vectors.length > 0) {
      const dimensions = await settleDimensions(trx, payload.source, payload.model, vectors[0]?.length ?? 0);
      await writeVectors(
        trx,
        payload.source,
        payload.model,
        dimensions,
        todo.map((id, i) => ({
          resourceId: id,
          textSha256: textSha256(texts.get(id) as string),
          literal: vectorLiteral(vectors[i] as number[]),
        })),
        "backfill",
      );
    }
    await enqueueStep(trx, jobs, payload.source, payload.model, row.started_at, last, options.pauseMs);
  });
}

/** A retiring model's clean-up: its vectors in batches, then its index and its row. */
export async function retireStep(
  db: Db,
  payload: { source: string; model: string },
  context: Pick<JobContext, "stopping">,
) {
  for (;;) {
    context.stopping.throwIfAborted();
    const state = await db
      .selectFrom("embedding_models")
      .select("state")
      .where("source", "=", payload.source)
      .where("model", "=", payload.model)
      .executeTakeFirst();
    // Configured again meanwhile: its vectors are kept.
    if (state && state.state !== "retiring") return;
    const deleted = await sql`
      delete from embeddings where source = ${payload.source} and model = ${payload.model} and resource_id in (
        select resource_id from embeddings where source = ${payload.source} and model = ${payload.model} limit ${RETIRE_BATCH})`.execute(
      db,
    );
    if (Number(deleted.numAffectedRows ?? 0) > 0) continue;
    await transaction(db, async (trx) => {
      const gone = await trx
        .deleteFrom("embedding_models")
        .where("source", "=", payload.source)
        .where("model", "=", payload.model)
        .where("state", "=", "retiring")
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) > 0) {
        await sql`drop index if exists ${sql.id(modelIndexName(payload.source, payload.model))}`.execute(trx);
      }
    });
    return;
  }
}

async function activate(db: Db, jobs: JobService, source: string, model: string): Promise<void> {
  await transaction(db, async (trx) => {
    const previous = await trx
      .updateTable("embedding_models")
      .set({ state: "retiring" })
      .where("source", "=", source)
      .where("state", "=", "active")
      .returning("model")
      .execute();
    await trx
      .updateTable("embedding_models")
      .set({ state: "active", activated_at: sql`now()` })
      .where("source", "=", source)
      .where("model", "=", model)
      .where("state", "=", "building")
      .execute();
    for (const row of previous) await jobs.enqueue(trx, { queue: RETIRE_QUEUE, payload: { source, model: row.model } });
  });
}

async function retire(trx: Db, jobs: JobService, source: string, model: string): Promise<void> {
  await trx
    .updateTable("embedding_models")
    .set({ state: "retiring" })
    .where("source", "=", source)
    .where("model", "=", model)
    .execute();
  await jobs.enqueue(trx, { queue: RETIRE_QUEUE, payload: { source, model } });
}

/** One job per step of one build: the key names the build and the position, so a step is enqueued once. */
function enqueueStep(
  trx: Db,
  jobs: JobService,
  source: string,
  model: string,
  startedAt: Date,
  after: string | null,
  pauseMs: number,
) {
  return jobs.enqueue(trx, {
    queue: BACKFILL_QUEUE,
    payload: { source, model },
    runAt: new Date(Date.now() + pauseMs),
    uniqueKey: `${source}|${model}|${new Date(startedAt).toISOString()}|${after ?? "start"}`,
  });
}
