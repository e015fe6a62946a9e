import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import type { JobService } from "../../platform/jobs/jobs.ts";

/**
 * Contexts reach workers as jobs on one queue, enqueued in the transaction
 * that creates (or retries) them, so a context is pending exactly when its
 * job exists. The job service's order is the seed's polling order: its
 * priority runs higher first and the seed's metadata.priority lower first
 * (1 is most urgent), so the job's is 10 minus the context's; then oldest
 * first (a job's run_at is its creation, or its context's next_retry_at).
 */
export const CONTEXT_QUEUE = "generation.contexts";

export interface ContextJobPayload {
  contextId: string;
}

export function enqueueContexts(
  jobs: JobService,
  trx: Kysely<Tables>,
  contexts: readonly { id: string; priority: number; runAt?: Date; attempt?: string }[],
): Promise<string[]> {
  return jobs.enqueueMany(
    trx,
    contexts.map((context) => ({
      queue: CONTEXT_QUEUE,
      payload: { contextId: context.id } satisfies ContextJobPayload,
      priority: 10 - context.priority,
      ...(context.runAt ? { runAt: context.runAt } : {}),
      // A worker that dies mid-context is the job's to recover (its lease
      // runs out and another worker claims it); the context's own retries
      // after a component fails are new jobs, one per retry.
      maxAttempts: 10,
      uniqueKey: `context:${context.id}:${context.attempt ?? 0}`,
    })),
  );
}
