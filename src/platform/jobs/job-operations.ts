import { type Kysely, type Selectable, sql } from "kysely";
import type { Tables } from "../database/tables.ts";
import { JOBS_CHANNEL } from "./job-queries.ts";
import type { JobStatus, JobsTable } from "./tables.ts";

/**
 * What an operator does to jobs (`strata jobs list|retry|cancel`). Both
 * changes raise the job's lease version, so a worker that still holds a
 * claim on it finds its later writes matching nothing (the fencing token).
 */

export type JobRow = Selectable<JobsTable>;

/** Jobs newest first, optionally of one queue and status. */
export function listJobs(
  db: Kysely<Tables>,
  filters: { queue?: string; status?: JobStatus; limit: number },
): Promise<JobRow[]> {
  let query = db.selectFrom("jobs").selectAll();
  if (filters.queue) query = query.where("queue", "=", filters.queue);
  if (filters.status) query = query.where("status", "=", filters.status);
  return query.orderBy("created_at", "desc").orderBy("id").limit(filters.limit).execute();
}

export type OperatorOutcome = "done" | "not_found" | "not_allowed";

/** A failed or cancelled job, due again now with its attempts reset; its last error stays for reference. */
export async function retryJob(db: Kysely<Tables>, id: string): Promise<OperatorOutcome> {
  const row = await db
    .updateTable("jobs")
    .set({
      status: "pending",
      attempts: 0,
      run_at: sql`now()`,
      finished_at: null,
      locked_by: null,
      locked_until: null,
      lease_version: sql`lease_version + 1`,
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("status", "in", ["failed", "cancelled"])
    .returning("queue")
    .executeTakeFirst();
  if (row) {
    await sql`select pg_notify(${JOBS_CHANNEL}, ${row.queue})`.execute(db);
    return "done";
  }
  return (await exists(db, id)) ? "not_allowed" : "not_found";
}

/** A pending or running job, cancelled: it will not run (again), and a running worker's writes are fenced out. */
export async function cancelJob(db: Kysely<Tables>, id: string): Promise<OperatorOutcome> {
  const row = await db
    .updateTable("jobs")
    .set({
      status: "cancelled",
      finished_at: sql`now()`,
      locked_by: null,
      locked_until: null,
      lease_version: sql`lease_version + 1`,
      updated_at: sql`now()`,
    })
    .where("id", "=", id)
    .where("status", "in", ["pending", "running"])
    .returning("id")
    .executeTakeFirst();
  if (row) return "done";
  return (await exists(db, id)) ? "not_allowed" : "not_found";
}

async function exists(db: Kysely<Tables>, id: string): Promise<boolean> {
  return (await db.selectFrom("jobs").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
}
