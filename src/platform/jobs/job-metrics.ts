import type { Kysely } from "kysely";
import { sql } from "kysely";
import { Counter, Gauge, type Registry } from "prom-client";
import type { Tables } from "../database/tables.ts";
import type { JobService } from "./jobs.ts";

/** Queues' depth and age, read at scrape time: one grouped query over the pending and running jobs. */
async function queueStates(db: Kysely<Tables>) {
  const { rows } = await sql<{ queue: string; status: string; n: string; oldest_ms: string | null }>`
    select queue, status, count(*) as n,
      extract(epoch from (now() - min(run_at))) * 1000 as oldest_ms
    from jobs where status in ('pending', 'running') and run_at <= now()
    group by queue, status`.execute(db);
  return rows;
}

/**
 * The job service in /metrics:
 * - `strata_jobs{queue,status}`: due jobs pending or running, across all processes;
 * - `strata_job_oldest_pending_seconds{queue}`: how long the oldest due job has waited;
 * - `strata_jobs_finished_total{queue,outcome}`: jobs this process finished
 *   (succeeded, retried, failed, lost, released): throughput and failures.
 */
export function registerJobMetrics(registry: Registry, db: Kysely<Tables>, jobs: JobService): void {
  for (const name of ["strata_jobs", "strata_job_oldest_pending_seconds", "strata_jobs_finished_total"]) {
    // A registry shared by a second platform (tests) reports the newest one's.
    registry.removeSingleMetric(name);
  }
  let states: Promise<Awaited<ReturnType<typeof queueStates>>> | null = null;
  // Both gauges come from one query per scrape.
  const current = () => {
    states ??= queueStates(db).finally(() => {
      setImmediate(() => {
        states = null;
      });
    });
    return states;
  };
  new Gauge({
    name: "strata_jobs",
    help: "Due jobs by queue and status (pending or running), across all processes.",
    labelNames: ["queue", "status"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await current().catch(() => []))
        this.set({ queue: row.queue, status: row.status }, Number(row.n));
    },
  });
  new Gauge({
    name: "strata_job_oldest_pending_seconds",
    help: "Seconds the oldest due pending job of each queue has waited.",
    labelNames: ["queue"],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await current().catch(() => [])) {
        if (row.status === "pending") this.set({ queue: row.queue }, Number(row.oldest_ms ?? 0) / 1000);
      }
    },
  });
  const reported = new Map<string, number>();
  new Counter({
    name: "strata_jobs_finished_total",
    help: "Jobs this process finished, by queue and outcome (succeeded, retried, failed, lost, released).",
    labelNames: ["queue", "outcome"],
    registers: [registry],
    collect() {
      // The service counts; the counter catches up with it at each scrape.
      for (const [key, n] of jobs.outcomes) {
        const [queue, outcome] = key.split("\n") as [string, string];
        const added = n - (reported.get(key) ?? 0);
        if (added > 0) this.inc({ queue, outcome }, added);
        reported.set(key, n);
      }
    },
  });
}
