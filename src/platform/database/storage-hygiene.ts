import { type Kysely, sql } from "kysely";
import { Counter, type Registry } from "prom-client";
import type { JobService } from "../jobs/jobs.ts";
import type { Logger } from "../logging/logger.ts";
import type { Database } from "./database.ts";

/**
 * VACUUM and CHECKPOINT on a schedule, for the embedded profile.
 *
 * PGlite is Postgres in single-user mode: no autovacuum (dead row versions
 * stay until someone vacuums), no autoanalyze (planner statistics go stale),
 * and no checkpointer (WAL is never recycled). This task stands in for all
 * three. The server profile has them already and never starts it.
 *
 * Each run does bounded work: it vacuums (and analyzes) at most
 * `maxTablesPerRun` tables whose dead tuples, counting their TOAST table's,
 * pass autovacuum's own default rule (50 + 20% of live tuples), plus one
 * table not vacuumed for a day (statistics are lost when the process is
 * killed, and this reaches the rows that were dead before), then runs one
 * CHECKPOINT so the WAL written since the last one is recycled. Plain VACUUM
 * never takes the table away from readers for long and leaves the freed
 * space for reuse rather than returning it; the table stays at the size of
 * its live rows plus what dies between two runs.
 *
 * Runs are a recurring job (platform.jobs.recurring, queue
 * `database.storage_hygiene`): one per slot of the schedule and never two at
 * once (a slot that comes due during a run waits for it; slots that pass
 * while the database is busy are skipped, not queued up), each claimed after
 * a wait for a quiet foreground (JobServiceOptions.quiet). A failed run is not
 * retried: the next slot is its retry.
 */
export interface StorageHygieneOptions {
  /** Cron expression of the runs (croner; six fields for seconds); every minute by default. */
  schedule?: string;
  maxTablesPerRun?: number;
  /** Called after each run, with its report (tests and benchmarks watch this). */
  onRun?: (report: StorageHygieneReport) => void;
}

export interface StorageHygieneReport {
  vacuumed: string[];
  durationMs: number;
}

export const STORAGE_HYGIENE_QUEUE = "database.storage_hygiene";
export const STORAGE_HYGIENE_SCHEDULE = "* * * * *";
const MAX_TABLES_PER_RUN = 4;
// Autovacuum's defaults: autovacuum_vacuum_threshold and _scale_factor.
const DEAD_TUPLE_THRESHOLD = 50;
const DEAD_TUPLE_SCALE = 0.2;

/** One run: vacuum the tables that need it, then checkpoint. */
export async function runStorageHygiene(
  db: Kysely<any>,
  options: { maxTablesPerRun?: number } = {},
): Promise<StorageHygieneReport> {
  const started = performance.now();
  const limit = options.maxTablesPerRun ?? MAX_TABLES_PER_RUN;
  // Statistics reach pg_stat_* when a transaction ends at least a second
  // after the last flush; this makes the end of this statement flush them,
  // so the query below sees every dead tuple made so far.
  await sql`select pg_stat_force_next_flush()`.execute(db);
  const { rows } = await sql<{ schema: string; name: string }>`
    with stats as (
      select s.schemaname as schema, s.relname as name,
             s.n_dead_tup + coalesce(t.n_dead_tup, 0) as dead,
             s.n_live_tup + coalesce(t.n_live_tup, 0) as live,
             s.last_vacuum
      from pg_stat_user_tables s
      join pg_class c on c.oid = s.relid
      left join pg_stat_all_tables t on t.relid = c.reltoastrelid
    ),
    crowded as (
      select schema, name, dead from stats
      where dead > ${DEAD_TUPLE_THRESHOLD}::float8 + ${DEAD_TUPLE_SCALE}::float8 * live
      order by dead desc
      limit ${limit}
    ),
    overdue as (
      select schema, name from stats
      where (last_vacuum is null or last_vacuum < now() - interval '1 day')
        and (schema, name) not in (select schema, name from crowded)
      order by last_vacuum nulls first, name
      limit 1
    )
    select schema, name from crowded
    union all
    select schema, name from overdue`.execute(db);
  const vacuumed: string[] = [];
  for (const table of rows) {
    // VACUUM cannot run inside a transaction; each statement here is its own.
    await sql`vacuum (analyze) ${sql.id(table.schema, table.name)}`.execute(db);
    vacuumed.push(`${table.schema}.${table.name}`);
  }
  await sql`checkpoint`.execute(db);
  return { vacuumed, durationMs: performance.now() - started };
}

/**
 * Starts the schedule on the embedded profile; returns the function that
 * stops it (after the run in progress, if any). On the server profile it
 * starts nothing: Postgres's own autovacuum and checkpointer do this there.
 */
export function startStorageHygiene(
  database: Database,
  deps: { jobs: JobService; logger: Logger; registry: Registry },
  options: StorageHygieneOptions = {},
): () => Promise<void> {
  if (database.driver !== "pglite") return async () => {};
  const runs = hygieneRunsCounter(deps.registry);
  return deps.jobs.recurring(STORAGE_HYGIENE_QUEUE, options.schedule ?? STORAGE_HYGIENE_SCHEDULE, async () => {
    let report: StorageHygieneReport;
    try {
      report = await runStorageHygiene(database.db, {
        ...(options.maxTablesPerRun !== undefined ? { maxTablesPerRun: options.maxTablesPerRun } : {}),
      });
    } catch (error) {
      runs.inc({ outcome: "error" });
      throw error; // recorded on the slot's job and logged by the job service
    }
    runs.inc({ outcome: "ok" });
    if (report.vacuumed.length > 0) deps.logger.debug(report, "storage hygiene: vacuumed and checkpointed");
    options.onRun?.(report);
  });
}

function hygieneRunsCounter(registry: Registry): Counter<"outcome"> {
  const name = "strata_storage_hygiene_runs_total";
  return (
    (registry.getSingleMetric(name) as Counter<"outcome"> | undefined) ??
    new Counter({
      name,
      help: "Embedded-profile VACUUM and CHECKPOINT runs, by outcome (ok, error).",
      labelNames: ["outcome"],
      registers: [registry],
    })
  );
}
