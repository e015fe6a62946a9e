/**
 * Job throughput on the Postgres server: Strata's job service (platform/jobs)
 * beside graphile-worker and pg-boss, and Strata's job service on PGlite, in
 * the same run.
 *
 * For each system and each worker count (BENCH_JOBS_WORKERS, default 1,4,16;
 * N jobs at once in one process, through the system's own concurrency
 * option): BENCH_JOBS no-op jobs (default 5,000) are enqueued on an empty
 * queue with the system's bulk enqueue (BENCH_JOBS_CHUNK per statement,
 * default 1,000), then drained. Drain rate is jobs per second from the first
 * handler invocation to the moment the database records the last completion;
 * total time is from the work() call (start-up included) to that moment.
 * Handler invocations are counted per job id, and the bench throws if any job
 * ran twice, did not run, or is not recorded as completed. Single enqueues
 * (BENCH_JOBS_SINGLES, default 1,000, 16 in flight) are measured too. The
 * systems take turns for BENCH_JOBS_ROUNDS rounds (default 3), and each
 * figure is the system's best round, so a burst of other load on the machine
 * does not decide a comparison.
 *
 * Postgres: a scratch database made for the run on TEST_DATABASE_URL's server
 * (dropped at the end); every system has a pool of POOL_SIZE connections.
 * PGlite: a data directory in a temporary folder (removed at the end). Before
 * each drain the system's job table is vacuumed and analyzed.
 *
 * Strata runs twice on the server: with `concurrency: N` alone (N bounds
 * this process, as each peer's concurrency does) and with `queueConcurrency:
 * N` as well (the bound held across processes: claims take turns under the
 * queue's lock and count its live leases), which the peers do not offer.
 *
 * BENCH_JOBS_SYSTEMS picks rows (strata, strata-capped, graphile,
 * graphile-batched, pg-boss, pg-boss-batched, strata-pglite; all by default). The median
 * commit time of the server is printed too: a claim and a completion each
 * wait for one, so it bounds what any queue on it drains with few workers.
 *
 * Generation (bench/jobs-generation.ts), on the first round of Strata's
 * rows on Postgres (with Redis) and on PGlite: BENCH_JOBS seed 001 contexts
 * in one batch, processed per second through a no-op pipeline with each
 * worker count, with every lease, heartbeat, lock, timing and statistic the
 * seed asks for.
 *
 * Goal: Strata's drain rate >= graphile-worker's (as it ships) at every
 * worker count.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { loadConfig } from "../src/config/config.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { allMigrations, createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform, type Platform } from "../src/runtime/platform.ts";
import { TEST_SIGNING_SECRET } from "../test/support/services.ts";
import { type DrainResult, type JobSystem, measureDrain, measureSingleEnqueues } from "./jobs-drain.ts";
import { measureGenerationContexts } from "./jobs-generation.ts";
import { graphileJobSystem, pgBossJobSystem } from "./jobs-peers.ts";
import { strataJobSystem } from "./jobs-strata.ts";

const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const JOBS = Number(process.env.BENCH_JOBS ?? 5_000);
const WORKERS = (process.env.BENCH_JOBS_WORKERS ?? "1,4,16").split(",").map(Number);
const CHUNK = Number(process.env.BENCH_JOBS_CHUNK ?? 1_000);
const SINGLES = Number(process.env.BENCH_JOBS_SINGLES ?? 1_000);
const SINGLES_IN_FLIGHT = 16;
const ROUNDS = Number(process.env.BENCH_JOBS_ROUNDS ?? 3);
/** Every system's pool on the server: graphile-worker's advice (concurrency + 2) at the largest worker count. */
const POOL_SIZE = Math.max(10, Math.max(...WORKERS) + 2);
/** Which rows to run (comma-separated keys below); all by default. */
const ONLY = process.env.BENCH_JOBS_SYSTEMS?.split(",");

interface Row {
  system: JobSystem;
  drains: DrainResult[];
  singlePerSecond: number;
}

/** The better of two rounds: the faster drain, and the faster bulk enqueue beside it. */
function better(a: DrainResult, b: DrainResult): DrainResult {
  const faster = b.drainPerSecond > a.drainPerSecond ? b : a;
  return { ...faster, enqueuePerSecond: Math.max(a.enqueuePerSecond, b.enqueuePerSecond) };
}

/**
 * The median time of a one-row autocommit insert: what one commit (a WAL
 * flush) costs on this server now. A job's claim and completion each need
 * one, so it bounds what any Postgres queue drains with few workers.
 */
async function commitLatencyMs(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("create table if not exists bench_commit (n integer)");
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      await client.query("insert into bench_commit values ($1)", [i]);
      times.push(performance.now() - started);
    }
    await client.query("drop table bench_commit");
    return times.sort((a, b) => a - b)[100] as number;
  } finally {
    await client.end();
  }
}

/** A scratch database of the bench's own, so no other data is ever touched. */
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

async function scratchDatabase() {
  const name = `strata_bench_jobs_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function strataPlatform(env: Record<string, string>, dataDir: string): Promise<Platform> {
  const config = loadConfig({ STRATA_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...env });
  const platform = await openPlatform(config, { logger: createLogger("silent"), migrations: allMigrations(modules) });
  await createMigrator(platform.database, modules).up();
  return platform;
}

async function measure(system: JobSystem, generation: Platform | null, round: number): Promise<Row> {
  try {
    const drains: DrainResult[] = [];
    for (const workers of WORKERS) {
      drains.push(await measureDrain(system, `noop_${workers}`, JOBS, workers));
      process.stderr.write(
        `  round ${round + 1}: ${system.name}, ${workers} at once: ${drains.at(-1)?.drainPerSecond.toFixed(0)} jobs/s\n`,
      );
    }
    const singlePerSecond = await measureSingleEnqueues(system, "single", SINGLES, SINGLES_IN_FLIGHT);
    if (generation && round === 0) {
      const contexts = await measureGenerationContexts(generation, JOBS, WORKERS);
      console.log(
        contexts
          ? `${system.name}: generation contexts/s through a no-op pipeline: ${WORKERS.map((w) => `${w} workers ${contexts.get(w)?.toFixed(0)}`).join(", ")}`
          : `${system.name}: generation contexts/s through a no-op pipeline: not measured`,
      );
    }
    return { system, drains, singlePerSecond };
  } finally {
    await system.close();
  }
}

export async function runJobsBench() {
  const scratch = await scratchDatabase();
  const pgliteDir = await mkdtemp(path.join(tmpdir(), "strata-bench-jobs-"));
  const rows: Row[] = [];
  const systems: [string, () => Promise<[JobSystem, Platform | null]>][] = [
    [
      "strata",
      async () => {
        const platform = await strataPlatform(
          {
            DATABASE_URL: scratch.url,
            DATABASE_POOL_MAX: String(POOL_SIZE),
            STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
            // The generation figure keeps seed 001's structures in the real Redis, as the server profile does.
            REDIS_URL: REDIS_URL,
            KV_KEY_PREFIX: `bench:${randomUUID()}:`,
          },
          path.join(pgliteDir, "server-profile"),
        );
        return [strataJobSystem(platform, "strata (Postgres, Redis)", CHUNK), platform];
      },
    ],
    [
      "strata-capped",
      async () => {
        const platform = await strataPlatform(
          {
            DATABASE_URL: scratch.url,
            DATABASE_POOL_MAX: String(POOL_SIZE),
            STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
          },
          path.join(pgliteDir, "server-profile"),
        );
        return [strataJobSystem(platform, "strata, queueConcurrency", CHUNK, true), null];
      },
    ],
    ["graphile", async () => [await graphileJobSystem(scratch.url, POOL_SIZE, CHUNK, false), null]],
    ["graphile-batched", async () => [await graphileJobSystem(scratch.url, POOL_SIZE, CHUNK, true), null]],
    ["pg-boss", async () => [await pgBossJobSystem(scratch.url, POOL_SIZE, CHUNK, false), null]],
    ["pg-boss-batched", async () => [await pgBossJobSystem(scratch.url, POOL_SIZE, CHUNK, true), null]],
    [
      "strata-pglite",
      async () => {
        const platform = await strataPlatform({}, path.join(pgliteDir, "embedded"));
        return [strataJobSystem(platform, "strata (PGlite)", CHUNK), platform];
      },
    ],
  ];
  const commitMs: number[] = [];
  try {
    commitMs.push(await commitLatencyMs(scratch.url));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [key, open] of systems) {
        if (ONLY && !ONLY.includes(key)) continue;
        const [system, platform] = await open();
        const row = await measure(system, platform, round);
        const best = rows.find((r) => r.system.name === row.system.name);
        if (!best) rows.push(row);
        else {
          best.drains = best.drains.map((d, i) => better(d, row.drains[i] as DrainResult));
          best.singlePerSecond = Math.max(best.singlePerSecond, row.singlePerSecond);
        }
      }
    }
    commitMs.push(await commitLatencyMs(scratch.url));
  } finally {
    await scratch.drop();
    await rm(pgliteDir, { recursive: true, force: true });
  }

  console.log(
    `${JOBS} no-op jobs enqueued on an empty queue, then drained with N jobs at once in one process (each system's concurrency option); ` +
      `Postgres ${POSTGRES_URL.replace(/\/\/[^@]*@/, "//").replace(/\/[^/]*$/, "")} in a scratch database, pools of ${POOL_SIZE}; PGlite in a temporary data directory`,
  );
  const header = WORKERS.map((w) => `${`${w} at once: jobs/s`.padStart(20)}${"total ms".padStart(10)}`).join("");
  console.log(`${"".padEnd(28)}${"bulk enq/s".padStart(11)}${"single enq/s".padStart(13)}${header}`);
  for (const { system, drains, singlePerSecond } of rows) {
    const bulk = Math.max(...drains.map((d) => d.enqueuePerSecond));
    const cells = drains.map((d) => `${d.drainPerSecond.toFixed(0).padStart(20)}${d.totalMs.toFixed(0).padStart(10)}`);
    console.log(
      `${system.name.padEnd(28)}${bulk.toFixed(0).padStart(11)}${singlePerSecond.toFixed(0).padStart(13)}${cells.join("")}`,
    );
  }
  const byName = (name: string) => rows.find((r) => r.system.name === name);
  const strata = byName("strata (Postgres, Redis)");
  const ratios = (peer: Row | undefined) =>
    strata && peer
      ? WORKERS.map(
          (w, i) =>
            `${w}: ${((strata.drains[i] as DrainResult).drainPerSecond / (peer.drains[i] as DrainResult).drainPerSecond).toFixed(2)}x`,
        ).join(", ")
      : "not measured";
  console.log(`strata / graphile-worker drain rate: ${ratios(byName("graphile-worker"))} (goal >= 1x at every count)`);
  const capped = byName("strata, queueConcurrency");
  if (capped && byName("graphile-worker")) {
    console.log(
      `strata with queueConcurrency / graphile-worker: ${WORKERS.map(
        (w, i) =>
          `${w}: ${((capped.drains[i] as DrainResult).drainPerSecond / ((byName("graphile-worker") as Row).drains[i] as DrainResult).drainPerSecond).toFixed(2)}x`,
      ).join(", ")}`,
    );
  }
  console.log(
    `strata / graphile-worker batched: ${ratios(byName("graphile-worker, batched"))}; ` +
      `/ pg-boss: ${ratios(byName("pg-boss"))}; / pg-boss batched: ${ratios(byName("pg-boss, batched"))}`,
  );
  console.log(
    `best of ${ROUNDS} rounds per figure; ${SINGLES} single enqueues, ${SINGLES_IN_FLIGHT} in flight; ` +
      `bulk enqueue ${CHUNK} jobs per statement, best of the backlogs; ` +
      `a commit on this Postgres took ${commitMs.map((ms) => ms.toFixed(2)).join(" ms before and ")} ms after (median of 200 one-row inserts)`,
  );
  for (const { system } of rows) console.log(`  ${system.options}`);
}
