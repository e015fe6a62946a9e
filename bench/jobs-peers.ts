/**
 * The peers of the jobs bench, on the same Postgres as Strata: graphile-worker
 * (its Node API `run`) and pg-boss (`work`), each in its own schema of the
 * bench's scratch database and each with a pool of the same size as Strata's.
 */
import { randomUUID } from "node:crypto";
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import pg from "pg";
import { PgBoss } from "pg-boss";
import type { JobSystem } from "./jobs-drain.ts";

const silentGraphileLogger = new Logger(() => () => {});

/**
 * graphile-worker 0.18: `run({ concurrency: N, taskList })` in this process,
 * jobs added with `addJobs` (one statement per chunk). `batched` turns on its
 * documented batching (a local queue fetched by the pool and completions
 * gathered into one statement); off, it runs as it ships, one job fetched and
 * one completed per round trip.
 */
export async function graphileJobSystem(url: string, poolSize: number, chunk: number, batched: boolean) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on("error", () => {}); // an idle client's error; the next query reports its own
  const utils = await makeWorkerUtils({ pgPool: pool, logger: silentGraphileLogger });
  await utils.migrate();
  // Completed jobs are deleted, so "completed" is what was enqueued and is gone.
  const enqueued = new Map<string, number>();
  const deleteQueue = (queue: string) =>
    pool.query(
      `delete from graphile_worker._private_jobs
        where task_id in (select id from graphile_worker._private_tasks where identifier = $1)`,
      [queue],
    );
  const name = batched ? "graphile-worker, batched" : "graphile-worker";
  const preset = (concurrency: number): GraphileConfig.Preset | undefined =>
    batched ? { worker: { localQueue: { size: concurrency + 1 }, completeJobBatchDelay: 0 } } : undefined;
  const system: JobSystem = {
    name,
    options: batched
      ? `${name}: run({ concurrency: N, taskList }) with preset.worker.localQueue.size N + 1 and completeJobBatchDelay 0 (its documented starting points)`
      : `${name}: run({ concurrency: N, taskList }) as it ships (pollInterval 2 s, LISTEN for new jobs, one job fetched and completed per round trip)`,
    async prepare(queue) {
      await deleteQueue(queue);
      await pool.query("vacuum analyze graphile_worker._private_jobs");
      enqueued.set(queue, 0);
    },
    async enqueueMany(queue, count) {
      const ids: string[] = [];
      for (let done = 0; done < count; done += chunk) {
        const specs = Array.from({ length: Math.min(chunk, count - done) }, () => ({ identifier: queue, payload: {} }));
        const jobs = await utils.addJobs(specs);
        for (const job of jobs) ids.push(String(job.id));
      }
      enqueued.set(queue, (enqueued.get(queue) ?? 0) + ids.length);
      return ids;
    },
    async enqueueOne(queue) {
      const job = await utils.addJob(queue, {});
      enqueued.set(queue, (enqueued.get(queue) ?? 0) + 1);
      return String(job.id);
    },
    async work(queue, concurrency, ran) {
      const runner = await run({
        pgPool: pool,
        concurrency,
        noHandleSignals: true,
        logger: silentGraphileLogger,
        taskList: {
          [queue]: async (_payload, helpers) => {
            ran(String(helpers.job.id));
          },
        },
        preset: preset(concurrency),
      });
      return () => runner.stop();
    },
    async count(queue) {
      const { rows } = await pool.query<{ n: string }>(
        `select count(*) as n from graphile_worker._private_jobs
          where task_id in (select id from graphile_worker._private_tasks where identifier = $1)`,
        [queue],
      );
      const open = Number(rows[0]?.n ?? 0);
      return { completed: (enqueued.get(queue) ?? 0) - open, open };
    },
    async cleanUp(queue) {
      await deleteQueue(queue);
      enqueued.delete(queue);
    },
    async close() {
      await utils.release();
      await pool.end();
    },
  };
  return system;
}

/**
 * pg-boss 12.35: `work(queue, options, handler)` with `localConcurrency`
 * workers in this process, jobs added with `insert` (one statement per
 * chunk). Without a burst option each worker waits its polling interval (at
 * least 0.5 s) after every fetch, so the fair no-op drain turns bursting on:
 * - per job: `localConcurrency: N, batchSize: 1, burstWhenReadyExceeds: 1`,
 *   N workers each fetching and completing one job per round trip;
 * - batched: `localConcurrency: 1, batchSize: N, burstWhenBatchFull: true`
 *   (and `burstWhenReadyExceeds: 1`, which alone applies at N = 1), one
 *   worker fetching N jobs, the handler running them, one completion for all.
 * burstWhenReadyExceeds reads the queue's cached ready count, so before the
 * clock starts the bench runs a supervise pass and lets the queue cache
 * (refreshed every second here) see the backlog, as it would after its
 * monitor's next pass.
 */
export async function pgBossJobSystem(url: string, poolSize: number, chunk: number, batched: boolean) {
  const boss = new PgBoss({
    connectionString: url,
    schema: "pgboss",
    max: poolSize,
    schedule: false,
    queueCacheIntervalSeconds: 1,
    monitorIntervalSeconds: 1,
  });
  // An error pg-boss reports from its background work fails the bench at the next count.
  let failure: unknown = null;
  boss.on("error", (error) => {
    failure ??= error;
  });
  await boss.start();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const name = batched ? "pg-boss, batched" : "pg-boss";
  const system: JobSystem = {
    name,
    options: batched
      ? `${name}: work(queue, { localConcurrency: 1, batchSize: N, burstWhenBatchFull: true, burstWhenReadyExceeds: 1 }, handler)`
      : `${name}: work(queue, { localConcurrency: N, batchSize: 1, burstWhenReadyExceeds: 1 }, handler)`,
    async prepare(queue) {
      if (!(await boss.getQueue(queue))) await boss.createQueue(queue);
      await pool.query("delete from pgboss.job where name = $1", [queue]);
      await pool.query("vacuum analyze pgboss.job");
    },
    async enqueueMany(queue, count) {
      const ids: string[] = [];
      for (let done = 0; done < count; done += chunk) {
        const jobs = Array.from({ length: Math.min(chunk, count - done) }, () => ({ id: randomUUID(), data: {} }));
        // Ids given, so insert need not return them (its fastest form); measureDrain counts the rows.
        await boss.insert(queue, jobs);
        for (const job of jobs) ids.push(job.id);
      }
      return ids;
    },
    async enqueueOne(queue) {
      const id = await boss.send(queue, {});
      if (!id) throw new Error("pg-boss send returned no id");
      return id;
    },
    async ready(queue, count) {
      const end = Date.now() + 10_000;
      for (;;) {
        await boss.supervise(queue);
        if (((await boss.getQueue(queue))?.readyCount ?? 0) >= count) break;
        if (Date.now() > end) throw new Error("pg-boss's queue stats never showed the backlog");
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // One refresh of the queue cache (every second) and a margin.
      await new Promise((resolve) => setTimeout(resolve, 1_300));
    },
    async work(queue, concurrency, ran) {
      const options = batched
        ? { localConcurrency: 1, batchSize: concurrency, burstWhenBatchFull: true, burstWhenReadyExceeds: 1 }
        : { localConcurrency: concurrency, batchSize: 1, burstWhenReadyExceeds: 1 };
      await boss.work(queue, options, async (jobs) => {
        for (const job of jobs) ran(job.id);
      });
      return () => boss.offWork(queue, { wait: true });
    },
    async count(queue) {
      if (failure) throw failure;
      const { rows } = await pool.query<{ completed: string; open: string }>(
        `select count(*) filter (where state = 'completed') as completed,
                count(*) filter (where state <> 'completed') as open
           from pgboss.job where name = $1`,
        [queue],
      );
      return { completed: Number(rows[0]?.completed ?? 0), open: Number(rows[0]?.open ?? 0) };
    },
    async cleanUp(queue) {
      await pool.query("delete from pgboss.job where name = $1", [queue]);
    },
    async close() {
      await boss.stop({ graceful: true });
      await pool.end();
    },
  };
  return system;
}
