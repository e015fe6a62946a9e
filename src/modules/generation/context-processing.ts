import { completeWithinBudget } from "../../platform/ai/budgeted-completion.ts";
import { AiNotConfiguredError, AiProviderError } from "../../platform/ai/chat-client.ts";
import { AiProviderBusyError } from "../../platform/ai/errors.ts";
import { isAppError } from "../../platform/errors/app-error.ts";
import type { OrganizationSettings } from "../../platform/identity/organization-service.ts";
import { retryDelayMs } from "../../platform/jobs/backoff.ts";
import { type JobContext, LeaseLostError } from "../../platform/jobs/jobs.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { BatchEndChecks } from "./batch-end-checks.ts";
import { componentPlugins } from "./component-types/index.ts";
import { type AiAccess, PermanentComponentError, type PipelineState } from "./component-types/plugin.ts";
import type { ContextJobPayload } from "./context-queue.ts";
import {
  type Completed,
  type ContextError,
  completionData,
  dropContextJob,
  failContext,
  type Progress,
  retryContext,
  type StartedContext,
  saveProgress,
  startContext,
} from "./context-writes.ts";
import { cachedPipelineSteps, type PipelineStep } from "./pipeline-steps.ts";
import type { WorkerPresence } from "./worker-presence.ts";

/** What a worker process's contexts share: its presence in the KV store and its batches' end checks. */
export interface ContextWorker {
  presence: WorkerPresence;
  batchEnds: BatchEndChecks;
}

/** A failed component's context waits this long before its retry, doubling each time (with jitter). */
const RETRY_BACKOFF = { baseMs: 5_000, maxMs: 10 * 60_000 };

/**
 * Runs one context through its pipeline (the handler of its job): the
 * seed's pending → processing → completed or failed, each component in
 * order, recording the components done and each one's milliseconds.
 *
 * A context a dead worker left processing is taken again by whichever worker
 * claims its job when the lease runs out, and resumes after its last
 * recorded component; its completion is fenced by the job's lease, so it is
 * recorded exactly once. A component that fails retries the context with
 * backoff (retry_count, next_retry_at) up to GENERATION_MAX_RETRIES, then
 * the context is kept as failed; one whose failure retrying cannot fix
 * (PermanentComponentError) fails at once.
 */
export async function processContext(platform: Platform, worker: ContextWorker, job: JobContext): Promise<void> {
  const db = platform.database.db;
  const { presence, batchEnds } = worker;
  // Started by the claim itself (CONTEXT_CLAIMS); null when there is nothing to do, or when the claim's
  // statement did not see a context as new as its job: started on its own then.
  const { contextId } = job.job.payload as ContextJobPayload;
  const context =
    (job.job.claimData as StartedContext | null) ?? (await startContext(db, contextId, presence.workerId));
  if (!context) return dropContextJob(db, job);
  // The worker_lock shows who holds the context; what fences its writes is the job's lease. So it is taken
  // while the context runs, not before, and a KV store being out costs the lock, not the context.
  const holding = presence
    .hold(context.id)
    .catch((error) =>
      platform.logger.warn({ err: error, contextId: context.id }, "taking a context's worker lock failed"),
    );
  let completed: Completed | null = null;
  try {
    // What the pipeline needs, read at once (each is cached in-process).
    const [steps, settings] = await Promise.all([
      context.pipeline_id ? cachedPipelineSteps(platform, context.pipeline_id) : [],
      platform.identity.organizations.settings(context.organization_id),
    ]);
    completed = await runPipeline(platform, job, context, steps, settings);
  } finally {
    const stats =
      completed && context.pipeline_id
        ? { pipelineId: context.pipeline_id, durationMs: completed.durationMs }
        : undefined;
    // Its batch may have ended with it, however it ended: checked a moment later, with the batch's other
    // contexts that end meanwhile.
    if (context.batch_id) batchEnds.ask(context.batch_id);
    // The context's outcome is committed: what follows runs after its slot is free for the next one (the
    // worker's stop waits for it), and a failure here loses a statistic, not work.
    presence.afterward(
      holding
        .then(() => presence.release(context.id, stats))
        .catch((error) =>
          platform.logger.warn({ err: error, contextId: context.id }, "releasing a context's worker lock failed"),
        ),
    );
  }
}

/** Resolves to what completed (null when the context did not complete). */
async function runPipeline(
  platform: Platform,
  job: JobContext,
  context: StartedContext,
  steps: PipelineStep[],
  settings: OrganizationSettings,
): Promise<Completed | null> {
  const db = platform.database.db;
  const progress: Progress = {
    state: (context.result ?? {}) as PipelineState,
    completedComponents: [...context.completed_components],
    componentTimings: { ...context.component_timings },
    inputTokens: context.input_tokens,
    outputTokens: context.output_tokens,
    costUsd: Number(context.cost_usd),
  };
  const ai = aiAccess(platform, job.signal);
  const remaining = steps.filter((step) => !progress.completedComponents.includes(step.key));
  for (const [i, step] of remaining.entries()) {
    job.signal.throwIfAborted();
    const started = performance.now();
    try {
      const output = await componentPlugins[step.type].run({
        context: { id: context.id, organizationId: context.organization_id, type: context.type, data: context.data },
        config: step.config,
        metadata: step.metadata,
        state: progress.state,
        settings,
        db,
        ai,
        signal: job.signal,
      });
      progress.state = output.state;
      progress.inputTokens += output.usage?.inputTokens ?? 0;
      progress.outputTokens += output.usage?.outputTokens ?? 0;
      progress.costUsd += output.usage?.costUsd ?? 0;
    } catch (error) {
      if (job.signal.aborted || error instanceof LeaseLostError) throw error;
      await recordFailure(platform, job, context, progress, { ...describe(error), component: step.key }, error);
      return null;
    }
    progress.completedComponents.push(step.key);
    progress.componentTimings[step.key] = Math.round(performance.now() - started);
    // Each component's work is kept as it finishes, so a worker that takes over resumes after it; the last
    // one's is kept with the completion.
    const last = i === remaining.length - 1;
    if (!last && !(await saveProgress(db, job, context.id, progress))) {
      await dropContextJob(db, job);
      return null;
    }
  }
  // Completed with its job in the worker's next claim, with the contexts that finish beside it (CONTEXT_CLAIMS).
  return (await job.completeInClaim(completionData(context.id, progress))) as Completed | null;
}

async function recordFailure(
  platform: Platform,
  job: JobContext,
  context: StartedContext,
  progress: Progress,
  error: ContextError,
  cause: unknown,
): Promise<void> {
  const db = platform.database.db;
  if (cause instanceof AiProviderBusyError) {
    // Still rate limited after its waits: back in the queue for when the provider asks, not a retry.
    const retryAt = new Date(Date.now() + (cause.retryAfterMs ?? 60_000));
    await retryContext(db, platform.jobs, job, context, progress, error, retryAt, { counts: false });
    return;
  }
  const permanent = cause instanceof PermanentComponentError;
  if (!permanent && context.retry_count < platform.config.generation.maxRetries) {
    const retryAt = new Date(Date.now() + retryDelayMs(context.retry_count + 1, RETRY_BACKOFF));
    platform.logger.warn({ contextId: context.id, error, retryAt }, "a context's component failed; it will retry");
    await retryContext(db, platform.jobs, job, context, progress, error, retryAt);
    return;
  }
  platform.logger.warn({ contextId: context.id, error }, "a context failed");
  await failContext(db, job, context.id, progress, error);
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof PermanentComponentError) return { code: error.code, message: error.message };
  if (error instanceof AiNotConfiguredError) return { code: "ai_not_configured", message: error.message };
  if (error instanceof AiProviderBusyError) return { code: "ai_provider_busy", message: error.message };
  if (error instanceof AiProviderError) return { code: "ai_provider_error", message: error.message };
  if (isAppError(error)) return { code: error.code, message: error.message };
  return { code: "component_failed", message: error instanceof Error ? error.message : String(error) };
}

/**
 * The provider as components reach it: every completion inside the
 * provider's shared token and request budget (every worker process draws on
 * one), a 429 waited out for its Retry-After however often the provider
 * asks (a background context has time; none of it counts as a failure),
 * and no retry of a failure here: the context's own retry, with backoff,
 * is the one that counts.
 */
function aiAccess(platform: Platform, signal: AbortSignal): AiAccess {
  const { chat, aiBudget } = platform;
  return {
    chat,
    complete: (request) => {
      if (!chat || !aiBudget) throw new AiNotConfiguredError();
      return completeWithinBudget({ chat, budget: aiBudget }, request, {
        signal,
        busyWaits: 100,
        maxBusyWaitMs: 10 * 60_000,
        failureRetries: 0,
      });
    },
  };
}
