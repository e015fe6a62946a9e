import { CompiledQuery, type Kysely, sql, type UpdateObject } from "kysely";
import { preparedStatement } from "../database/prepared-statements.ts";
import type { Tables } from "../database/tables.ts";
import "./tables.ts";

/** The channel every enqueue notifies (with the queue's name), on commit only. */
export const JOBS_CHANNEL = "strata_jobs";

export interface NewJob {
  queue: string;
  payload?: unknown;
  /** Higher runs first; 0 by default. */
  priority?: number;
  /** Not before this time; now by default. */
  runAt?: Date;
  /** Attempts before the job is kept as failed; 5 by default. */
  maxAttempts?: number;
  /** At most one job per queue and key, ever: a second enqueue with the key is a no-op. */
  uniqueKey?: string;
}

/** A job as a worker holds it: `leaseVersion` fences every write the claim makes. */
export interface ClaimedJob {
  id: string;
  queue: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  leaseVersion: number;
  /** The queue's claim extension's row for the job (ClaimExtension), null without one. */
  claimData: unknown;
}

/**
 * A queue's own statement in its claims' round trip (WorkOptions.claimWith):
 * what every claimed job needs first (a context's start) and what each
 * finished job leaves (a context's result), made in the claim itself
 * instead of in round trips of their own. `ctes` are top-level CTEs (`name
 * as (...)`, comma-separated; data-modifying ones allowed) that may read
 * `taken` (the jobs this claim took: id, payload), `completed` (the
 * finished jobs it recorded as succeeded, each only while its claim held:
 * job_id, and the data its handler passed to completeInClaim, or null) and
 * `$5` (the worker's id); the one named by `data` yields `job_id` and
 * `data` (jsonb) for any of them, which reaches a taken job's handler as
 * `job.claimData` and a completed one's as completeInClaim's result. It
 * runs in the claim's transaction: the jobs and its effects commit
 * together.
 */
export interface ClaimExtension {
  /** Names the queue's statement, for its prepared form. */
  name: string;
  ctes: string;
  data: string;
}

/**
 * Inserts `jobs` in one multi-row statement, which also notifies the queue's
 * workers. NOTIFY is transactional: given the caller's transaction, the jobs
 * and their wake-up exist exactly when the caller's rows commit. Returns the
 * ids inserted (a unique key already taken inserts nothing).
 */
export async function insertJobs(db: Kysely<Tables>, jobs: readonly NewJob[]): Promise<string[]> {
  if (jobs.length === 0) return [];
  const rows = jobs.map((job) => ({
    queue: job.queue,
    payload: JSON.stringify(job.payload ?? {}),
    priority: job.priority ?? 0,
    run_at: job.runAt ?? sql<Date>`now()`,
    max_attempts: job.maxAttempts ?? 5,
    unique_key: job.uniqueKey ?? null,
  }));
  const inserted = await db
    .with("inserted", (q) =>
      q
        .insertInto("jobs")
        .values(rows as never)
        .onConflict((oc) => oc.columns(["queue", "unique_key"]).where("unique_key", "is not", null).doNothing())
        .returning(["id", "queue"]),
    )
    .selectFrom("inserted")
    .select(["inserted.id", sql<string>`pg_notify(${JOBS_CHANNEL}, inserted.queue)`.as("notified")])
    .execute();
  return inserted.map((row) => row.id);
}

export interface ClaimOptions {
  queue: string;
  /** Most jobs to take now. */
  limit: number;
  /** When set, jobs of this queue running at once across every process; otherwise only `limit` bounds the claim. */
  queueConcurrency?: number;
  leaseMs: number;
  workerId: string;
  extension?: ClaimExtension;
  /** With an extension: per finished job, the data its handler passed to completeInClaim (null for none). */
  finishedData?: readonly unknown[];
}

/**
 * A worker's one round trip (strata_claim_jobs, migration 4). $1 queue,
 * $2 limit, $3 queue concurrency (null: none), $4 lease seconds, $5 worker
 * id, $6 the ids of the jobs it finished, $7 their lease versions.
 */
const COMPLETE_AND_CLAIM = preparedStatement(
  "jobs_complete_and_claim",
  "select claimed, id, queue, payload, attempts, max_attempts, lease_version from strata_claim_jobs($1, $2, $3, $4, $5, $6, $7)",
);

export interface ClaimResult {
  /** The jobs now leased to the worker. */
  claimed: ClaimedJob[];
  /** The finished jobs recorded as succeeded; one missing had lost its claim. */
  completed: Set<string>;
  /** With an extension: its row for each completed job that has one. */
  completedData: Map<string, unknown>;
}

/**
 * Records `finished` (jobs of `options.queue` whose handlers succeeded) as
 * succeeded, each only while its own claim holds, then takes up to `limit`
 * due jobs of the queue, most urgent first, and leases them to `workerId`:
 * one round trip. FOR UPDATE SKIP LOCKED keeps concurrent claims off each
 * other's rows (and off rows an operator's retry or cancel holds). A queue
 * with a `queueConcurrency` takes turns instead, under a transaction-scoped
 * advisory lock, so that counting the running jobs and taking more cannot
 * race past it. A running job whose lease expired (its worker died) is due
 * again; one that has no attempt left is kept as failed instead.
 */
/** The claim with a queue's extension: its CTEs after the claim's, its data beside each job. */
const extendedClaims = new WeakMap<ClaimExtension, string>();
function extendedClaim(extension: ClaimExtension): string {
  let text = extendedClaims.get(extension);
  if (!text) {
    text = preparedStatement(
      `jobs_complete_and_claim_${extension.name}`,
      `with claim as (${COMPLETE_AND_CLAIM}),
taken as (select id, payload from claim where claimed),
completed as (
  select finished.job_id, finished.data from unnest($6::uuid[], $8::jsonb[]) as finished(job_id, data)
  where finished.job_id in (select id from claim where not claimed)),
${extension.ctes}
select claim.claimed, claim.id, claim.queue, claim.payload, claim.attempts, claim.max_attempts, claim.lease_version,
  extension.data as claim_data
from claim left join ${extension.data} as extension on extension.job_id = claim.id`,
    );
    extendedClaims.set(extension, text);
  }
  return text;
}

export async function completeAndClaimJobs(
  db: Kysely<Tables>,
  finished: readonly ClaimedJob[],
  options: ClaimOptions,
): Promise<ClaimResult> {
  const result = await db.executeQuery<{
    claimed: boolean;
    id: string;
    queue: string;
    payload: unknown;
    attempts: number;
    max_attempts: number;
    lease_version: number;
    claim_data?: unknown;
  }>(
    CompiledQuery.raw(options.extension ? extendedClaim(options.extension) : COMPLETE_AND_CLAIM, [
      options.queue,
      options.limit,
      options.queueConcurrency ?? null,
      options.leaseMs / 1000,
      options.workerId,
      finished.map((job) => job.id),
      finished.map((job) => job.leaseVersion),
      ...(options.extension ? [finished.map((_, i) => JSON.stringify(options.finishedData?.[i] ?? null))] : []),
    ]),
  );
  const claimed: ClaimedJob[] = [];
  const completed = new Set<string>();
  const completedData = new Map<string, unknown>();
  for (const row of result.rows) {
    if (!row.claimed) {
      completed.add(row.id);
      if (row.claim_data != null) completedData.set(row.id, row.claim_data);
    } else
      claimed.push({
        id: row.id,
        queue: row.queue,
        payload: row.payload,
        attempts: row.attempts,
        maxAttempts: row.max_attempts,
        leaseVersion: row.lease_version,
        claimData: row.claim_data ?? null,
      });
  }
  return { claimed, completed, completedData };
}

/** Takes up to `limit` due jobs of one queue (completeAndClaimJobs with nothing finished). */
export async function claimJobs(db: Kysely<Tables>, options: ClaimOptions): Promise<ClaimedJob[]> {
  return (await completeAndClaimJobs(db, [], options)).claimed;
}

/**
 * An update of a running job that holds only while the claim does: it
 * matches the row at the claim's lease version, so after the lease was lost
 * (expired and claimed again, or changed by an operator) it matches nothing.
 */
async function fencedUpdate(db: Kysely<Tables>, job: ClaimedJob, set: UpdateObject<Tables, "jobs">): Promise<boolean> {
  const result = await db
    .updateTable("jobs")
    .set(set)
    .where("id", "=", job.id)
    .where("lease_version", "=", job.leaseVersion)
    .where("status", "=", "running")
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Lengthens a lease; false when the claim is no longer this one's (fenced off). */
export async function extendLease(db: Kysely<Tables>, job: ClaimedJob, leaseMs: number): Promise<boolean> {
  return fencedUpdate(db, job, {
    locked_until: sql`now() + make_interval(secs => ${leaseMs / 1000})`,
    updated_at: sql`now()`,
  });
}

/**
 * Marks finished jobs succeeded in one statement, each fenced by its own
 * claim's lease version. Returns the ids it completed; a job missing from
 * it had lost its claim (another worker has it, or an operator changed it).
 * $1 ids, $2 their lease versions.
 */
const COMPLETE = preparedStatement(
  "jobs_complete",
  `update jobs set status = 'succeeded', finished_at = now(), updated_at = now(), locked_by = null, locked_until = null
from unnest($1::uuid[], $2::int[]) as done(id, lease_version)
where jobs.id = any($1::uuid[]) and jobs.id = done.id and jobs.lease_version = done.lease_version
  and jobs.status = 'running'
returning jobs.id`,
);

export async function completeJobs(db: Kysely<Tables>, jobs: readonly ClaimedJob[]): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const result = await db.executeQuery<{ id: string }>(
    CompiledQuery.raw(COMPLETE, [jobs.map((job) => job.id), jobs.map((job) => job.leaseVersion)]),
  );
  return new Set(result.rows.map((row) => row.id));
}

/** Marks the job succeeded; false when the claim was lost (another worker has it, or an operator changed it). */
export async function completeJob(db: Kysely<Tables>, job: ClaimedJob): Promise<boolean> {
  return (await completeJobs(db, [job])).has(job.id);
}

/**
 * Records a failed attempt: back to pending after `retryInMs`, or kept as
 * failed with its error once no attempt is left. False when the claim was lost.
 */
export async function failJob(
  db: Kysely<Tables>,
  job: ClaimedJob,
  error: string,
  retryInMs: number | null,
): Promise<boolean> {
  const last = retryInMs === null || job.attempts >= job.maxAttempts;
  return fencedUpdate(db, job, {
    status: last ? "failed" : "pending",
    last_error: error,
    run_at: last ? sql`run_at` : sql`now() + make_interval(secs => ${(retryInMs ?? 0) / 1000})`,
    finished_at: last ? sql`now()` : null,
    updated_at: sql`now()`,
    locked_by: null,
    locked_until: null,
  });
}

/** Hands an unfinished job back (shutdown): due now, and the attempt it was on does not count. */
export async function releaseJob(db: Kysely<Tables>, job: ClaimedJob): Promise<boolean> {
  const released = await fencedUpdate(db, job, {
    status: "pending",
    attempts: sql`greatest(attempts - 1, 0)`,
    run_at: sql`now()`,
    updated_at: sql`now()`,
    locked_by: null,
    locked_until: null,
  });
  if (released) await sql`select pg_notify(${JOBS_CHANNEL}, ${job.queue})`.execute(db);
  return released;
}

/**
 * Hands back every running job at once (due now, its lease version raised
 * so the lost claim's writes are fenced off), keeping the attempt it was on:
 * for a database that one process holds (the embedded profile), where a job
 * still running when that process starts belongs to one that died. Returns
 * how many.
 */
export async function releaseAbandonedJobs(db: Kysely<Tables>): Promise<number> {
  const result = await db
    .updateTable("jobs")
    .set({
      status: "pending",
      run_at: sql`now()`,
      lease_version: sql`lease_version + 1`,
      last_error: sql`coalesce(last_error || E'\n', '') || 'its process ended while it ran'`,
      updated_at: sql`now()`,
      locked_by: null,
      locked_until: null,
    })
    .where("status", "=", "running")
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** When the queue's next pending job is due (null when none is waiting). */
export async function nextDueAt(db: Kysely<Tables>, queue: string): Promise<Date | null> {
  const row = await db
    .selectFrom("jobs")
    .select((eb) => eb.fn.min("run_at").as("next"))
    .where("queue", "=", queue)
    .where("status", "=", "pending")
    .executeTakeFirst();
  return (row?.next as Date | null | undefined) ?? null;
}

/**
 * Inside the caller's transaction, locks the job's row and checks the claim
 * still holds: a worker's own writes made in that transaction commit only
 * if no other claim has replaced it (the fencing token's check).
 */
export async function holdsLease(trx: Kysely<Tables>, job: ClaimedJob): Promise<boolean> {
  const row = await trx
    .selectFrom("jobs")
    .select("id")
    .where("id", "=", job.id)
    .where("lease_version", "=", job.leaseVersion)
    .where("status", "=", "running")
    .forUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Deletes finished jobs: succeeded or cancelled ones finished before
 * `succeededBefore`, failed ones before `failedBefore` (kept longer, for
 * an operator to look at or retry). Returns how many went.
 */
export async function pruneJobs(
  db: Kysely<Tables>,
  options: { succeededBefore: Date; failedBefore: Date },
): Promise<number> {
  const result = await db
    .deleteFrom("jobs")
    .where((eb) =>
      eb.or([
        eb.and([eb("status", "in", ["succeeded", "cancelled"]), eb("finished_at", "<", options.succeededBefore)]),
        eb.and([eb("status", "=", "failed"), eb("finished_at", "<", options.failedBefore)]),
      ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
