import type { Kysely } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { TASK_RESULTS_TTL_MS, TASK_STATUS_TTL_MS, taskResultsKey, taskStatusKey } from "./caches.ts";
import { scoped } from "./entries.ts";
import type { AnalysisTaskView } from "./schemas.ts";

/** The job queue of entry analyses (seed 002's `tasks:queue:ai_analysis`, in the job service). */
export const ANALYSIS_QUEUE = "journal.analysis";

type TaskStatus = AnalysisTaskView["status"];

interface StoredStatus {
  status: TaskStatus;
  entryId: string;
  updatedAt: string;
}

/** Queues an entry's analysis in the caller's transaction; the job's id is the task's. */
export async function enqueueAnalysis(platform: Platform, trx: Kysely<Tables>, entryId: string): Promise<string> {
  const id = await platform.jobs.enqueue(trx, { queue: ANALYSIS_QUEUE, payload: { entryId }, maxAttempts: 3 });
  if (!id) throw new Error("the analysis job was not enqueued");
  return id;
}

/**
 * Records a task's status under seed 002's `tasks:status:{task_id}` (an
 * hour). Best effort: the job itself is the record that counts, and a
 * missing status reads as what the jobs table says.
 */
export async function setTaskStatus(platform: Platform, taskId: string, entryId: string, status: TaskStatus) {
  const value: StoredStatus = { status, entryId, updatedAt: new Date().toISOString() };
  await platform.kv
    .set(taskStatusKey(taskId), JSON.stringify(value), { ttlMs: TASK_STATUS_TTL_MS })
    .catch((error) => platform.logger.warn({ err: error, taskId }, "analysis task status not recorded"));
}

export function markTaskQueued(platform: Platform, taskId: string, entryId: string) {
  return setTaskStatus(platform, taskId, entryId, "queued");
}

export async function setTaskResults(platform: Platform, taskId: string, results: unknown) {
  await platform.kv
    .set(taskResultsKey(taskId), JSON.stringify(results), { ttlMs: TASK_RESULTS_TTL_MS })
    .catch((error) => platform.logger.warn({ err: error, taskId }, "analysis task results not recorded"));
}

/**
 * A task as its caller sees it: from the key-value store while it is there,
 * else from the job. Only the entry's owner sees it (404 otherwise).
 */
export async function getTask(platform: Platform, principal: Principal, taskId: string): Promise<AnalysisTaskView> {
  const job = await platform.database.read
    .selectFrom("jobs")
    .select(["status", "payload", "updated_at"])
    .where("id", "=", taskId)
    .where("queue", "=", ANALYSIS_QUEUE)
    .executeTakeFirst();
  const [statusText, resultsText] = await platform.kv
    .mget([taskStatusKey(taskId), taskResultsKey(taskId)])
    .catch(() => [null, null]);
  const stored = statusText ? (JSON.parse(statusText) as StoredStatus) : null;
  const entryId = stored?.entryId ?? (job?.payload as { entryId?: string } | undefined)?.entryId;
  if (!entryId) throw errors.journalEntryNotFound(taskId);
  const owned = await scoped(platform.database.read, principal)
    .select("id")
    .where("id", "=", entryId)
    .executeTakeFirst();
  // Once the entry is deleted, nothing proves whose the task was: it is not found.
  if (!owned) throw errors.journalEntryNotFound(entryId);
  const fromJob: TaskStatus | null = job ? (job.status === "pending" ? "queued" : job.status) : null;
  const status = stored?.status ?? fromJob ?? "queued";
  return {
    id: taskId,
    status,
    entryId,
    result: status === "succeeded" && resultsText ? JSON.parse(resultsText) : null,
    updatedAt: stored?.updatedAt ?? (job ? new Date(job.updated_at).toISOString() : new Date().toISOString()),
  };
}
