/**
 * Strata's job service as the jobs bench drives it: the platform's own
 * `platform.jobs` (opened by openPlatform, as `strata serve` opens it), on
 * the Postgres server or on PGlite.
 */
import { sql } from "kysely";
import type { NewJob } from "../src/platform/jobs/jobs.ts";
import type { Platform } from "../src/runtime/platform.ts";
import type { JobSystem } from "./jobs-drain.ts";

/**
 * `capped` adds `queueConcurrency: N`: the queue's bound held across
 * processes, which makes claims take turns under the queue's lock and count
 * its live leases; without it N bounds this process alone, as the peers'
 * concurrency does.
 */
export function strataJobSystem(platform: Platform, name: string, chunk: number, capped = false): JobSystem {
  const db = platform.database.db;
  const jobsOf = (queue: string, count: number): NewJob[] => Array.from({ length: count }, () => ({ queue }));
  return {
    name,
    options: capped
      ? `${name}: work(queue, handler, { concurrency: N, queueConcurrency: N }), claims of up to N jobs under the queue's lock, lease 30 s`
      : `${name}: work(queue, handler, { concurrency: N }), claims of up to N jobs (batchSize defaults to concurrency), lease 30 s`,
    async prepare(queue) {
      await db.deleteFrom("jobs").where("queue", "=", queue).execute();
      await sql`vacuum analyze jobs`.execute(db);
    },
    async enqueueMany(queue, count) {
      const ids: string[] = [];
      for (let done = 0; done < count; done += chunk) {
        ids.push(...(await platform.jobs.enqueueMany(db, jobsOf(queue, Math.min(chunk, count - done)))));
      }
      return ids;
    },
    async enqueueOne(queue) {
      const id = await platform.jobs.enqueue(db, { queue });
      if (!id) throw new Error("enqueue inserted nothing");
      return id;
    },
    async work(queue, concurrency, ran) {
      return platform.jobs.work(
        queue,
        async ({ job }) => {
          ran(job.id);
        },
        capped ? { concurrency, queueConcurrency: concurrency } : { concurrency },
      );
    },
    async count(queue) {
      const row = await db
        .selectFrom("jobs")
        .select([
          sql<string>`count(*) filter (where status = 'succeeded')`.as("completed"),
          sql<string>`count(*) filter (where status <> 'succeeded')`.as("open"),
        ])
        .where("queue", "=", queue)
        .executeTakeFirstOrThrow();
      return { completed: Number(row.completed), open: Number(row.open) };
    },
    async cleanUp(queue) {
      await db.deleteFrom("jobs").where("queue", "=", queue).execute();
    },
    close: () => platform.close(),
  };
}
