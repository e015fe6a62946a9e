import { CompiledQuery, type Kysely, type Selectable, sql } from "kysely";
import { preparedStatement } from "../../platform/database/prepared-statements.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { ClaimExtension, JobContext, JobService } from "../../platform/jobs/jobs.ts";
import { startedBatches } from "./batch-progress.ts";
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

/** What a worker reads of a context it starts. */
export type StartedContext = Pick<
  ContextRow,
  | "id"
  | "organization_id"
  | "batch_id"
  | "pipeline_id"
  | "type"
  | "priority"
  | "data"
  | "result"
  | "completed_components"
  | "component_timings"
  | "retry_count"
  | "input_tokens"
  | "output_tokens"
  | "cost_usd"
>;

/** A context's start (pending → processing, again for a dead worker's); `worker` is the worker id's parameter. */
const starting = (worker: string) => `status = 'processing', started_at = coalesce(c.started_at, now()),
    worker_id = ${worker}, next_retry_at = null, updated_at = now()`;

/** What a started context returns: StartedContext's columns. */
const STARTED_COLUMNS = `c.id, c.organization_id, c.batch_id, c.pipeline_id, c.type, c.priority, c.data, c.result,
    c.completed_components, c.component_timings, c.retry_count, c.input_tokens, c.output_tokens,
    c.cost_usd::text as cost_usd`;

/**
 * Starts one context in a statement of its own (its batch too), for a job
 * whose claim did not see it (CONTEXT_CLAIMS' `started`). $1 the context's
 * id, $2 the worker's id.
 */
const START_CONTEXT = preparedStatement(
  "generation_start_context",
  `with started as (
  update generation_contexts c set ${starting("$2")}
  where c.id = $1::uuid and c.status in ('pending', 'processing')
  returning ${STARTED_COLUMNS}),
started_batches as (${startedBatches("select batch_id from started")})
select * from started`,
);

/** START_CONTEXT: the context started, or null when it is no longer to be processed. */
export async function startContext(
  db: Kysely<Tables>,
  contextId: string,
  workerId: string,
): Promise<StartedContext | null> {
  const { rows } = await db.executeQuery<StartedContext>(CompiledQuery.raw(START_CONTEXT, [contextId, workerId]));
  return rows[0] ?? null;
}

/**
 * A worker's writes to contexts inside the claims of their jobs (the job
 * service's ClaimExtension): one round trip per claim for the contexts it
 * starts and the contexts that finished since the last one. Each finds its
 * contexts by primary key (`id = any(array(...))`): the claim's row count
 * is unknown to the planner, which would otherwise scan every pending
 * context of a large batch to hash-join a handful.
 *
 * - started: pending → processing (or a dead worker's processing context,
 *   again), with the worker's id; a batch becomes processing with its first
 *   context. Each taken job's claimData is its context's StartedContext, or
 *   null when the context is no longer to be processed (cancelled,
 *   finished, deleted) or was not visible to the statement: the claim runs
 *   in a function with a snapshot of its own, newer than the statement's,
 *   so a job committed between the two is claimed while its context, new
 *   too, is not yet seen here. The worker then starts it on its own
 *   (startContext). Unfenced: it changes nothing another claim's writes
 *   depend on.
 * - ended: processing → completed with the whole result (completionData),
 *   for the jobs whose fenced completion this claim recorded (`completed`),
 *   so a worker that lost a claim writes nothing for its context. Each one's
 *   row is its batch and duration; none when the context was no longer
 *   processing (cancelled meanwhile).
 */
export const CONTEXT_CLAIMS: ClaimExtension = {
  name: "generation_contexts",
  ctes: `ended as (
  update generation_contexts c set
    result = f.data->'result',
    completed_components = array(select jsonb_array_elements_text(f.data->'completedComponents')),
    component_timings = f.data->'componentTimings', input_tokens = (f.data->>'inputTokens')::integer,
    output_tokens = (f.data->>'outputTokens')::integer, cost_usd = (f.data->>'costUsd')::numeric,
    status = 'completed', error = null, completed_at = now(), updated_at = now(),
    duration_ms = floor(extract(epoch from now() - c.started_at) * 1000)::bigint
  from completed f
  where c.id = any(array(select (data->>'contextId')::uuid from completed)) and c.id = (f.data->>'contextId')::uuid
    and c.status = 'processing'
  returning f.job_id, jsonb_build_object('batchId', c.batch_id, 'durationMs', c.duration_ms) as data),
started as (
  update generation_contexts c set ${starting("$5")}
  from taken
  where c.id = any(array(select (payload->>'contextId')::uuid from taken)) and c.id = (taken.payload->>'contextId')::uuid
    and c.status in ('pending', 'processing')
  returning taken.id as job_id, ${STARTED_COLUMNS}),
started_batches as (${startedBatches("select batch_id from started")}),
context_rows as (
  select job_id, to_jsonb(started) - 'job_id' as data from started
  union all select job_id, data from ended)`,
  data: "context_rows",
};

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

/** What a context's completion hands its claim extension (CONTEXT_CLAIMS' `ended`). */
export function completionData(contextId: string, progress: Progress) {
  return {
    contextId,
    result: progress.state,
    completedComponents: progress.completedComponents,
    componentTimings: progress.componentTimings,
    inputTokens: progress.inputTokens,
    outputTokens: progress.outputTokens,
    costUsd: progress.costUsd.toFixed(6),
  };
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
  context: Pick<StartedContext, "id" | "priority" | "retry_count">,
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
