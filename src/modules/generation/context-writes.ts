import { type Kysely, type Selectable, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { JobContext, JobService } from "../../platform/jobs/jobs.ts";
import { startedBatch } from "./batch-progress.ts";
import type { PipelineState } from "./component-types/plugin.ts";
import { enqueueContexts } from "./context-queue.ts";
import type { GenerationContextsTable } from "./tables.ts";

/**
 * A worker's writes to a context, as seed 001's Context Updates. Every write
 * after the start is fenced by the context's job (JobContext.fence or
 * .complete in the same transaction), and matches the context only while it
 * is still processing: a worker that lost its claim, or a context cancelled
 * meanwhile, writes nothing.
 */

export type ContextRow = Selectable<GenerationContextsTable>;

export interface Progress {
  state: PipelineState;
  completedComponents: string[];
  componentTimings: Record<string, number>;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** A context that completed: how long it took, and its batch (whose end is then checked). */
export interface Completed {
  durationMs: number;
  batchId: string | null;
}

export interface ContextError {
  code: string;
  message: string;
  component: string | null;
}

/**
 * pending → processing (or a dead worker's processing context, again), with
 * this worker's id; its batch becomes processing with its first context.
 * Null when the context is no longer to be processed (cancelled, finished,
 * deleted). Unfenced: it changes nothing another claim's writes depend on.
 */
export async function startContext(
  db: Kysely<Tables>,
  contextId: string,
  workerId: string,
): Promise<ContextRow | null> {
  // One statement (one commit): the batch's update reads the started context's batch_id.
  const { rows } = await sql<ContextRow>`
    with started as (
      update generation_contexts set
        status = 'processing', started_at = coalesce(started_at, now()), worker_id = ${workerId},
        next_retry_at = null, updated_at = now()
      where id = ${contextId} and status in ('pending', 'processing')
      returning *),
    batch as (${startedBatch(sql`(select batch_id from started)`)})
    select * from started`.execute(db);
  return rows[0] ?? null;
}

function progressColumns(progress: Progress) {
  return {
    result: JSON.stringify(progress.state),
    completed_components: progress.completedComponents,
    component_timings: JSON.stringify(progress.componentTimings),
    input_tokens: progress.inputTokens,
    output_tokens: progress.outputTokens,
    cost_usd: progress.costUsd.toFixed(6),
    updated_at: sql<Date>`now()`,
  };
}

/** Records the components done so far; false when the context stopped processing (cancelled). */
export async function saveProgress(
  db: Kysely<Tables>,
  job: JobContext,
  contextId: string,
  progress: Progress,
): Promise<boolean> {
  return transaction(db, async (trx) => {
    await job.fence(trx);
    const result = await trx
      .updateTable("generation_contexts")
      .set(progressColumns(progress))
      .where("id", "=", contextId)
      .where("status", "=", "processing")
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  });
}

/**
 * processing → completed with the whole result, and the job completed with
 * it, in one statement (one round trip, one commit): the context's update
 * happens only if the job's fenced completion did. Resolves to its duration
 * and batch (null when the context was no longer processing: cancelled),
 * whose end the caller then checks (endBatchIfDone); throws LeaseLostError
 * when the claim was lost, having written nothing.
 */
export async function completeContext(
  db: Kysely<Tables>,
  job: JobContext,
  contextId: string,
  progress: Progress,
): Promise<Completed | null> {
  const { rows } = await sql<{ held: boolean; batch_id: string | null; duration_ms: string | null; ended: boolean }>`
    with done as (${job.completion()}),
    ended as (
      update generation_contexts set
        result = ${JSON.stringify(progress.state)}::jsonb,
        completed_components = ${progress.completedComponents}::text[],
        component_timings = ${JSON.stringify(progress.componentTimings)}::jsonb,
        input_tokens = ${progress.inputTokens},
        output_tokens = ${progress.outputTokens},
        cost_usd = ${progress.costUsd.toFixed(6)}::numeric,
        status = 'completed', error = null, completed_at = now(), updated_at = now(),
        duration_ms = floor(extract(epoch from now() - started_at) * 1000)::bigint
      where id = ${contextId} and status = 'processing' and exists (select 1 from done)
      returning batch_id, duration_ms)
    select exists (select 1 from done) as held, exists (select 1 from ended) as ended,
      (select batch_id from ended) as batch_id, (select duration_ms from ended) as duration_ms`.execute(db);
  const row = rows[0];
  job.completedBy(row?.held === true);
  if (!row?.ended) return null;
  return { durationMs: Number(row.duration_ms), batchId: row.batch_id };
}

/**
 * processing → pending again, due at `retryAt` with a new job; what was done
 * so far is kept. A retry counts (retry_count + 1) unless `counts` is false
 * (the provider only asked it to wait).
 */
export async function retryContext(
  db: Kysely<Tables>,
  jobs: JobService,
  job: JobContext,
  context: ContextRow,
  progress: Progress,
  error: ContextError,
  retryAt: Date,
  options: { counts: boolean } = { counts: true },
): Promise<void> {
  await transaction(db, async (trx) => {
    await job.complete(trx);
    const retry = context.retry_count + (options.counts ? 1 : 0);
    const row = await trx
      .updateTable("generation_contexts")
      .set({
        ...progressColumns(progress),
        status: "pending",
        error: JSON.stringify(error),
        retry_count: retry,
        next_retry_at: retryAt,
      })
      .where("id", "=", context.id)
      .where("status", "=", "processing")
      .returning("id")
      .executeTakeFirst();
    // The job's key is the context's and this attempt's: a wait that does not count still needs a new one.
    if (row) {
      await enqueueContexts(jobs, trx, [
        { id: context.id, priority: context.priority, runAt: retryAt, attempt: `${retry}.${job.job.id}` },
      ]);
    }
  });
}

/** processing → failed with its error (the caller then checks its batch's end, as after a completion). */
export async function failContext(
  db: Kysely<Tables>,
  job: JobContext,
  contextId: string,
  progress: Progress,
  error: ContextError,
): Promise<void> {
  await transaction(db, async (trx) => {
    await job.complete(trx);
    await trx
      .updateTable("generation_contexts")
      .set({
        ...progressColumns(progress),
        status: "failed",
        error: JSON.stringify(error),
        completed_at: sql`now()`,
        duration_ms: sql`floor(extract(epoch from now() - started_at) * 1000)::bigint`,
      })
      .where("id", "=", contextId)
      .where("status", "=", "processing")
      .execute();
  });
}

/** Completes the job of a context there is nothing to do for (cancelled, finished, gone). */
export async function dropContextJob(db: Kysely<Tables>, job: JobContext): Promise<void> {
  await transaction(db, (trx) => job.complete(trx));
}
