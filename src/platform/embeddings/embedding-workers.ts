import type { Kysely } from "kysely";
import type { Tables } from "../database/tables.ts";
import type { JobService } from "../jobs/jobs.ts";
import type { Logger } from "../logging/logger.ts";
import { embedQueued } from "./embedding-worker.ts";
import {
  BACKFILL_QUEUE,
  type BackfillOptions,
  backfillStep,
  RETIRE_QUEUE,
  reconcileModels,
  retireStep,
} from "./model-lifecycle.ts";
import { EMBED_QUEUE, type VectorStore } from "./vector-store.ts";

/** Every minute, each source with rows waiting (a crash between commit and embedding) gets an embed job. */
const SWEEP_SCHEDULE = "* * * * *";

/**
 * Starts the embedding store's background work in a worker process: the
 * outbox's embed jobs, a model change's throttled re-embedding and the
 * retired model's clean-up, all through the job service, and sets up each
 * source's configured model. Nothing runs without pgvector.
 */
export async function startEmbeddingWorkers(
  store: VectorStore,
  db: Kysely<Tables>,
  jobs: JobService,
  logger: Logger,
  backfill: BackfillOptions,
): Promise<() => Promise<void>> {
  if (!(await store.support()).available) return async () => {};
  const known = (payload: unknown): { source: string; model: string } | null => {
    const p = payload as { source?: unknown; model?: unknown };
    return typeof p?.source === "string" && store.sources().some((s) => s.name === p.source)
      ? { source: p.source, model: typeof p.model === "string" ? p.model : "" }
      : null;
  };
  const stops = [
    jobs.work(
      EMBED_QUEUE,
      async ({ job, stopping, signal }) => {
        const p = known(job.payload);
        if (p) await embedQueued(store, db, p.source, logger, { stopping, signal });
      },
      { concurrency: 2 },
    ),
    jobs.work(
      BACKFILL_QUEUE,
      async ({ job, signal }) => {
        const p = known(job.payload);
        if (p) await backfillStep(store, db, jobs, p, backfill, { signal });
      },
      { concurrency: 1 },
    ),
    jobs.work(
      RETIRE_QUEUE,
      async ({ job, stopping }) => {
        const p = known(job.payload);
        if (p) await retireStep(db, p, { stopping });
      },
      { concurrency: 1 },
    ),
    jobs.recurring("embeddings.sweep", SWEEP_SCHEDULE, async () => {
      const waiting = await db.selectFrom("embedding_outbox").select("source").distinct().execute();
      await jobs.enqueueMany(
        db,
        waiting.map((w) => ({ queue: EMBED_QUEUE, payload: { source: w.source } })),
      );
    }),
  ];
  await reconcileModels(store, db, jobs, logger);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
