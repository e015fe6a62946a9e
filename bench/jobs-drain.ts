/**
 * The measurement the jobs bench makes of every job system alike: enqueue a
 * backlog of no-op jobs on an empty queue, drain it with a number of workers
 * in this process, and prove every job ran exactly once and was recorded as
 * completed. A lost or repeated job throws, so the bench fails loudly.
 */

/** One job system as the bench drives it (bench/jobs-systems.ts has Strata and its peers). */
export interface JobSystem {
  /** The row's label. */
  readonly name: string;
  /** The worker options used, printed under the table. */
  readonly options: string;
  /** Makes `queue` exist and empty (the rows of an earlier round removed, the tables vacuumed). */
  prepare(queue: string): Promise<void>;
  /** Enqueues `count` no-op jobs on `queue` with the system's bulk enqueue; resolves to their ids. */
  enqueueMany(queue: string, count: number): Promise<string[]>;
  /** Anything the system must see of the backlog before the clock starts (pg-boss's cached queue stats). */
  ready?(queue: string, count: number): Promise<void>;
  /** Enqueues one no-op job; resolves to its id. */
  enqueueOne(queue: string): Promise<string>;
  /**
   * Starts `concurrency` jobs at once on `queue` in this process, calling
   * `ran(id)` from each handler invocation; resolves to a graceful stop.
   */
  work(queue: string, concurrency: number, ran: (id: string) => void): Promise<() => Promise<void>>;
  /** The queue's jobs the database records as completed, and those not completed (pending, running or failed). */
  count(queue: string): Promise<{ completed: number; open: number }>;
  /** Removes every job of `queue`, so the next round starts from an empty queue. */
  cleanUp(queue: string): Promise<void>;
  close(): Promise<void>;
}

export interface DrainResult {
  jobs: number;
  concurrency: number;
  /** Bulk enqueue of the backlog, jobs per second. */
  enqueuePerSecond: number;
  /** From work() to the last completion visible in the database, in ms (start-up included). */
  totalMs: number;
  /** From the first handler invocation to the last completion visible in the database, jobs per second. */
  drainPerSecond: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `done()` holds; throws when `progress()` has not moved for `stallMs`. */
async function until(done: () => boolean, progress: () => number, stallMs: number, what: string) {
  let last = progress();
  let movedAt = performance.now();
  while (!done()) {
    await sleep(2);
    const now = progress();
    if (now !== last) {
      last = now;
      movedAt = performance.now();
    } else if (performance.now() - movedAt > stallMs) {
      throw new Error(`${what}: stalled at ${now} for ${stallMs} ms`);
    }
  }
}

/** Enqueues `jobs` no-op jobs on a fresh queue and drains them with `concurrency` workers. */
export async function measureDrain(
  system: JobSystem,
  queue: string,
  jobs: number,
  concurrency: number,
  stallMs = 30_000,
): Promise<DrainResult> {
  await system.prepare(queue);
  const before = await system.count(queue);
  if (before.completed + before.open !== 0) throw new Error(`${system.name}: queue ${queue} is not empty`);

  const enqueueStarted = performance.now();
  const ids = await system.enqueueMany(queue, jobs);
  const enqueueMs = performance.now() - enqueueStarted;
  const enqueued = new Set(ids);
  const waiting = await system.count(queue);
  if (enqueued.size !== jobs || waiting.open !== jobs || waiting.completed !== 0) {
    throw new Error(
      `${system.name}: enqueued ${enqueued.size} distinct ids, the database holds ${waiting.open} open and ${waiting.completed} completed; expected ${jobs} open`,
    );
  }

  await system.ready?.(queue, jobs);
  const runs = new Map<string, number>();
  let invocations = 0;
  let firstRunAt = 0;
  const ran = (id: string) => {
    if (invocations === 0) firstRunAt = performance.now();
    invocations++;
    runs.set(id, (runs.get(id) ?? 0) + 1);
  };
  const started = performance.now();
  const stop = await system.work(queue, concurrency, ran);
  let completedAt: number;
  try {
    await until(
      () => invocations >= jobs,
      () => invocations,
      stallMs,
      `${system.name}: handler invocations`,
    );
    // The figure counts completed jobs only: the clock stops when the
    // database records the last completion, not when the last handler returns.
    const deadline = performance.now() + stallMs;
    for (;;) {
      const { completed } = await system.count(queue);
      if (completed >= jobs) break;
      if (performance.now() > deadline) throw new Error(`${system.name}: ${completed}/${jobs} completions recorded`);
      await sleep(2);
    }
    completedAt = performance.now();
  } finally {
    await stop();
  }

  // Exactly once: every enqueued job ran one time, nothing else ran, and the
  // database records every one as completed and none as open. Checked after
  // stop, so a late second run of any job would show here.
  const twice = [...runs].filter(([, n]) => n > 1);
  const strangers = [...runs.keys()].filter((id) => !enqueued.has(id));
  const after = await system.count(queue);
  if (twice.length > 0 || strangers.length > 0 || runs.size !== jobs || invocations !== jobs) {
    throw new Error(
      `${system.name}: ${invocations} handler invocations for ${runs.size} of ${jobs} jobs; ` +
        `${twice.length} ran more than once (e.g. ${twice[0]?.[0]} ${twice[0]?.[1]} times), ${strangers.length} unknown ids`,
    );
  }
  if (after.completed !== jobs || after.open !== 0) {
    throw new Error(
      `${system.name}: ${after.completed} of ${jobs} completed, ${after.open} still open after the drain`,
    );
  }
  await system.cleanUp(queue);
  return {
    jobs,
    concurrency,
    enqueuePerSecond: jobs / (enqueueMs / 1000),
    totalMs: completedAt - started,
    drainPerSecond: jobs / ((completedAt - firstRunAt) / 1000),
  };
}

/** Single enqueues, `inFlight` at a time, on a queue no worker takes; jobs per second. */
export async function measureSingleEnqueues(
  system: JobSystem,
  queue: string,
  count: number,
  inFlight: number,
): Promise<number> {
  await system.prepare(queue);
  let next = 0;
  const ids = new Set<string>();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < count) ids.add(await system.enqueueOne(queue));
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const held = await system.count(queue);
  if (ids.size !== count || held.open !== count) {
    throw new Error(`${system.name}: ${ids.size} single enqueues returned ids, ${held.open} held; expected ${count}`);
  }
  await system.cleanUp(queue);
  return count / seconds;
}
