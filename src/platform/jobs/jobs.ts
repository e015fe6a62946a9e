import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { BatchedCalls } from "../batching/batched-calls.ts";
import type { Clock } from "../clock.ts";
import type { Tables } from "../database/tables.ts";
import type { Logger } from "../logging/logger.ts";
import { type BackoffOptions, DEFAULT_BACKOFF, retryDelayMs } from "./backoff.ts";
import { dueSlots, parseCron } from "./cron.ts";
import {
  type ClaimExtension,
  type ClaimedJob,
  completeAndClaimJobs,
  completeJob,
  extendLease,
  failJob,
  holdsLease,
  insertJobs,
  type NewJob,
  nextDueAt,
  pruneJobs,
  releaseAbandonedJobs,
  releaseJob,
} from "./job-queries.ts";
import type { WakeUps } from "./wake-ups.ts";

export type { ClaimExtension, ClaimedJob, NewJob };

const SUCCEEDED_KEPT_MS = 24 * 60 * 60_000;
const FAILED_KEPT_MS = 30 * 24 * 60 * 60_000;

/*
 * Glossary.
 * - queue: a name jobs are enqueued on and a handler works.
 * - claim: a worker's lease on a job, until `locked_until`, with the job's
 *   `lease_version` at that moment as its fencing token.
 * - fenced write: an update that matches the job only while its
 *   lease_version is the claim's; after the lease was lost (expired and
 *   claimed again, or changed by an operator) it matches nothing.
 */

/** What a handler gets besides the job. */
export interface JobContext {
  job: ClaimedJob;
  /** Aborted when the lease is lost or shutdown's grace has run out: stop, the job will run again. */
  signal: AbortSignal;
  /**
   * Aborted as soon as this process begins to stop, before the grace period
   * runs. A handler made of resumable steps (a long conversion in batches)
   * ends at its next step by throwing `stopping.reason`
   * (`stopping.throwIfAborted()`), and its job is handed back at once, as one
   * still running when the grace runs out is; a handler that ignores it is
   * given the grace period as before.
   */
  stopping: AbortSignal;
  /**
   * Call inside a transaction that makes the job's effects: throws
   * LeaseLostError (rolling the transaction back) unless this claim still
   * holds the job, and keeps the row locked until commit.
   */
  fence(trx: Kysely<Tables>): Promise<void>;
  /**
   * Marks the job succeeded inside the caller's transaction (the fenced
   * write that also locks the row), so the job's effects and its completion
   * commit together, in one statement fewer than fence() and a completion
   * after the handler. Throws LeaseLostError when the claim no longer holds.
   */
  complete(trx: Kysely<Tables>): Promise<void>;
  /**
   * Marks the job succeeded in its worker's next claim (one round trip for
   * it, the jobs that finished with it and the claim that refills their
   * slots), handing `data` to the queue's claim extension (WorkOptions.
   * claimWith), which records the job's effects in that same statement.
   * Resolves to the extension's row for the job (null when it has none);
   * throws LeaseLostError when the claim was lost, nothing recorded.
   */
  completeInClaim(data: unknown): Promise<unknown>;
}

export type JobHandler = (context: JobContext) => Promise<void>;

export interface WorkOptions {
  /** Jobs of the queue this process runs at once; 1 by default. */
  concurrency?: number;
  /**
   * Jobs of the queue running at once across all processes. Unset, each
   * process runs up to its own concurrency; set, claims of the queue take
   * turns to count what runs (recurring work sets 1: one run at a time).
   */
  queueConcurrency?: number;
  /** Most jobs one claim takes; the concurrency by default. */
  batchSize?: number;
  /** How long a claim holds without being extended; 30 s by default (extended every third of it). */
  leaseMs?: number;
  backoff?: BackoffOptions;
  /** Longest a worker waits for a wake-up before looking anyway; 30 s by default. */
  idleMs?: number;
  /** The queue's statement in each claim's round trip, its row per job as `job.claimData` (ClaimExtension). */
  claimWith?: ClaimExtension;
}

/** The reason `JobContext.stopping` carries: thrown by a handler, its job is handed back, not failed. */
export class WorkerStoppingError extends Error {
  constructor(queue: string) {
    super(`the worker of queue ${queue} is stopping`);
    this.name = "WorkerStoppingError";
  }
}

export class LeaseLostError extends Error {
  constructor(job: ClaimedJob) {
    super(`job ${job.id} is no longer held by this claim (lease version ${job.leaseVersion})`);
    this.name = "LeaseLostError";
  }
}

export interface JobServiceOptions {
  /** How long stop() lets running handlers finish before it aborts and releases them. */
  graceMs: number;
  random?: () => number;
  /**
   * Awaited before each claim and each scheduled enqueue: on the embedded
   * database (one connection), the foreground's quiet(), so a worker's
   * statements wait for a gap between requests instead of queueing ahead
   * of them (database/foreground.ts).
   */
  quiet?: () => Promise<void>;
}

/**
 * The platform's job service: durable jobs in the database, enqueued in the
 * caller's transaction, worked by handlers registered per queue.
 */
export class JobService {
  readonly workerId = randomUUID();
  readonly #workers = new Set<QueueWorker>();
  readonly #byQueue = new Map<string, QueueWorker>();
  #unsubscribe: Promise<() => Promise<void>> | null = null;
  /** Jobs this process finished, by queue and outcome, for /metrics. */
  readonly outcomes = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly wakeUps: WakeUps,
    private readonly logger: Logger,
    private readonly options: JobServiceOptions,
  ) {}

  /** Enqueues one job on `db`, or in the caller's transaction when given one. Resolves to its id (null when its unique key is taken). */
  async enqueue(db: Kysely<Tables>, job: NewJob): Promise<string | null> {
    const [id] = await insertJobs(db, [job]);
    return id ?? null;
  }

  /** Enqueues many jobs with one multi-row insert. */
  enqueueMany(db: Kysely<Tables>, jobs: readonly NewJob[]): Promise<string[]> {
    return insertJobs(db, jobs);
  }

  /** Starts working `queue` in this process; the returned function stops that queue's worker (as stop() does). */
  work(queue: string, handler: JobHandler, options: WorkOptions = {}): () => Promise<void> {
    if (this.#byQueue.has(queue)) throw new Error(`queue ${queue} already has a worker in this process`);
    const worker = new QueueWorker(this.db, queue, handler, options, this.workerId, this.logger, this.options, (o) =>
      this.outcomes.set(`${queue}\n${o}`, (this.outcomes.get(`${queue}\n${o}`) ?? 0) + 1),
    );
    this.#workers.add(worker);
    this.#byQueue.set(queue, worker);
    if (!this.#unsubscribe) {
      this.#unsubscribe = this.wakeUps(
        (name) => this.#byQueue.get(name)?.wake(),
        () => {
          for (const w of this.#byQueue.values()) w.wake();
        },
      );
      // A job enqueued while LISTEN was being set up notified nobody: once
      // listening, every worker looks again rather than sleep until its timer.
      this.#unsubscribe.then(
        () => {
          for (const w of this.#byQueue.values()) w.wake();
        },
        (error) => this.logger.warn({ err: error }, "job wake-ups unavailable; polling"),
      );
    }
    worker.start();
    return async () => {
      this.#workers.delete(worker);
      this.#byQueue.delete(queue);
      await worker.stop();
    };
  }

  /**
   * Enqueues a job on `queue` for each slot of the cron `expression`, from
   * every process that calls it: the slot's time is the job's unique key,
   * so each slot fires once across all of them. After downtime, the slots of
   * the last `catchUpMs` (at most `maxCatchUp`) are enqueued, no older ones.
   * Throws invalid_cron_expression (400) when the expression does not parse.
   */
  schedule(
    queue: string,
    expression: string,
    options: { catchUpMs?: number; maxCatchUp?: number; maxAttempts?: number; clock?: Clock } = {},
  ): () => Promise<void> {
    const cron = parseCron(expression);
    const now = () => (options.clock ?? { now: Date.now }).now();
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let ticking: Promise<void> = Promise.resolve();
    const tick = async () => {
      await this.options.quiet?.();
      const slots = dueSlots(cron, now(), options.catchUpMs ?? 60 * 60_000, options.maxCatchUp ?? 1);
      await this.enqueueMany(
        this.db,
        slots.map((slot) => ({
          queue,
          runAt: slot,
          uniqueKey: `cron:${slot.toISOString()}`,
          payload: { slot: slot.toISOString() },
          maxAttempts: options.maxAttempts ?? 1,
        })),
      ).catch((error) => this.logger.error({ err: error, queue }, "enqueueing a scheduled job failed"));
      if (stopped) return;
      const next = cron.nextRun(new Date(now()));
      timer = setTimeout(
        () => {
          ticking = tick();
        },
        next ? Math.max(0, next.getTime() - now()) : 60_000,
      );
      timer.unref();
    };
    ticking = tick();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await ticking;
    };
  }

  /**
   * Deletes finished jobs: succeeded and cancelled ones after a day (longer
   * than any schedule's catch-up window, so a slot's key outlives the
   * window in which it could be enqueued again), failed ones after 30 days.
   */
  /**
   * For a database only this process uses (embedded): hands back the jobs a
   * process that died left running, now rather than when their leases run
   * out. Call before starting workers.
   */
  releaseAbandoned(): Promise<number> {
    return releaseAbandonedJobs(this.db);
  }

  prune(now = Date.now()): Promise<number> {
    return pruneJobs(this.db, {
      succeededBefore: new Date(now - SUCCEEDED_KEPT_MS),
      failedBefore: new Date(now - FAILED_KEPT_MS),
    });
  }

  /**
   * Runs `task` on each slot of the cron `expression`, once per slot across
   * every process that calls this: schedule and work in one, with the
   * task's own failures logged (a recurring task's next slot is its retry).
   */
  recurring(
    queue: string,
    expression: string,
    task: () => Promise<unknown>,
    options: { catchUpMs?: number } = {},
  ): () => Promise<void> {
    const stopSchedule = this.schedule(queue, expression, options);
    const stopWork = this.work(
      queue,
      async () => {
        await task();
      },
      { queueConcurrency: 1 },
    );
    return async () => {
      await stopSchedule();
      await stopWork();
    };
  }

  /**
   * Graceful stop: no more claims; running jobs get the grace period (a
   * handler that stops at a step when told hands its job back sooner), then
   * are aborted and handed back.
   */
  async stop(): Promise<void> {
    const workers = [...this.#workers];
    this.#workers.clear();
    this.#byQueue.clear();
    await Promise.all(workers.map((w) => w.stop()));
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = null;
    if (unsubscribe) await (await unsubscribe.catch(() => async () => {}))();
  }

  async close(): Promise<void> {
    await this.stop();
  }
}

interface Running {
  job: ClaimedJob;
  abort: AbortController;
  done: Promise<void>;
}

/** A finished job as a completing statement takes it. */
interface Finishing {
  job: ClaimedJob;
  /** For the queue's claim extension (completeInClaim); null for none. */
  data: unknown;
}

/** A job whose handler succeeded, waiting for its completion to be recorded. */
interface Finished extends Finishing {
  recorded(outcome: Recorded): void;
  failed(error: unknown): void;
}

interface Recorded {
  completed: boolean;
  /** The claim extension's row for the job, if any. */
  data: unknown;
}

/**
 * One queue's loop in one process: claim while there is room, sleep until
 * woken or the next job is due. A job whose handler succeeded wakes the loop,
 * and the loop's next round trip records it together with the claim that
 * refills its slot (completeAndClaimJobs): one statement per round, however
 * many jobs finished meanwhile (with the queue's claim extension, their
 * effects too: completeInClaim). Once the loop has stopped, completions go
 * through the same statement claiming nothing, those that finish together
 * sharing it (BatchedCalls).
 */
class QueueWorker {
  readonly #running = new Set<Running>();
  #finished: Finished[] = [];
  #stopping = false;
  readonly #stopped = new AbortController();
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  readonly #concurrency: number;
  readonly #queueConcurrency: number | undefined;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #idleMs: number;
  readonly #backoff: BackoffOptions;
  /** Completions once the loop has stopped: the same statement, claiming nothing. */
  readonly #completions: BatchedCalls<Finishing, Recorded>;
  readonly #extension: ClaimExtension | undefined;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly queue: string,
    private readonly handler: JobHandler,
    options: WorkOptions,
    private readonly workerId: string,
    private readonly logger: Logger,
    private readonly service: JobServiceOptions,
    private readonly count: (outcome: "succeeded" | "retried" | "failed" | "lost" | "released") => void,
  ) {
    this.#concurrency = options.concurrency ?? 1;
    this.#queueConcurrency = options.queueConcurrency;
    this.#batchSize = options.batchSize ?? this.#concurrency;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#idleMs = options.idleMs ?? 30_000;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#extension = options.claimWith;
    this.#completions = new BatchedCalls((finished) => this.#completeAndClaim(finished, 0).then((r) => r.recorded));
  }

  start() {
    this.#loop = this.#run().catch((error) => this.logger.error({ err: error, queue: this.queue }, "job loop ended"));
  }

  wake() {
    this.#woken = true;
    this.#wake?.();
  }

  async #run() {
    while (!this.#stopping) {
      this.#woken = false;
      // A finished job's slot is free once its completion is recorded, in this very round trip.
      if (this.#concurrency - this.#running.size + this.#finished.length > 0) {
        let finished: Finished[] = [];
        let claimed: ClaimedJob[] = [];
        try {
          await this.service.quiet?.();
          finished = this.#finished.splice(0);
          const result = await this.#completeAndClaim(
            finished,
            Math.min(this.#concurrency - this.#running.size + finished.length, this.#batchSize),
          );
          for (const [i, f] of finished.entries()) f.recorded(result.recorded[i] as Recorded);
          claimed = result.claimed;
        } catch (error) {
          this.logger.error({ err: error, queue: this.queue }, "claiming jobs failed");
          if (finished.length === 1) (finished[0] as Finished).failed(error);
          // One job's effects the statement refused (data its extension cannot store) must not fail the jobs
          // that finished beside it: each is recorded again on its own, claiming nothing. A job still not
          // recorded takes its failure path (#startJob): a failed attempt, or its lease runs out.
          else
            for (const f of finished)
              this.#completeAndClaim([f], 0).then((r) => f.recorded(r.recorded[0] as Recorded), f.failed);
        }
        for (const job of claimed) this.#startJob(job);
        if (claimed.length > 0 && this.#running.size < this.#concurrency) continue;
      }
      if (this.#woken || this.#stopping) continue;
      await this.#sleep(await this.#idleWait());
    }
  }

  /** Records `finished` as succeeded and claims up to `limit` jobs: one statement (completeAndClaimJobs). */
  async #completeAndClaim(finished: readonly Finishing[], limit: number) {
    const result = await completeAndClaimJobs(
      this.db,
      finished.map((f) => f.job),
      {
        queue: this.queue,
        limit,
        ...(this.#queueConcurrency !== undefined ? { queueConcurrency: this.#queueConcurrency } : {}),
        leaseMs: this.#leaseMs,
        workerId: this.workerId,
        ...(this.#extension ? { extension: this.#extension, finishedData: finished.map((f) => f.data) } : {}),
      },
    );
    const recorded = finished.map((f) => ({
      completed: result.completed.has(f.job.id),
      data: result.completedData.get(f.job.id) ?? null,
    }));
    return { claimed: result.claimed, recorded };
  }

  /**
   * Resolves once the job is recorded as succeeded (in the loop's next
   * round trip, or on its own once the loop has stopped) or found to have
   * lost its claim.
   */
  #complete(job: ClaimedJob, data: unknown = null): Promise<Recorded> {
    if (this.#stopping) return this.#completions.call({ job, data });
    return new Promise((recorded, failed) => {
      this.#finished.push({ job, data, recorded, failed });
      this.wake();
    });
  }

  /** Until the next pending job is due (capped), or until woken by an enqueue or a finished job. */
  async #idleWait(): Promise<number> {
    if (this.#running.size >= this.#concurrency) return this.#idleMs;
    const next = await nextDueAt(this.db, this.queue).catch(() => null);
    if (!next) return this.#idleMs;
    return Math.max(10, Math.min(this.#idleMs, next.getTime() - Date.now()));
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
      if (this.#woken || this.#stopping) this.#wake();
    });
  }

  #startJob(job: ClaimedJob) {
    const abort = new AbortController();
    const entry: Running = { job, abort, done: Promise.resolve() };
    const extender = setInterval(() => {
      extendLease(this.db, job, this.#leaseMs).then(
        (held) => {
          if (!held) abort.abort(new LeaseLostError(job));
        },
        (error) => this.logger.warn({ err: error, jobId: job.id }, "extending a job's lease failed"),
      );
    }, this.#leaseMs / 3);
    extender.unref();
    let completed = false;
    const context: JobContext = {
      job,
      signal: abort.signal,
      stopping: this.#stopped.signal,
      fence: async (trx) => {
        if (!(await holdsLease(trx, job))) throw new LeaseLostError(job);
      },
      complete: async (trx) => {
        if (!(await completeJob(trx, job))) throw new LeaseLostError(job);
        completed = true;
      },
      completeInClaim: async (data) => {
        if (!this.#extension) throw new Error(`queue ${this.queue} has no claim extension to complete in`);
        const outcome = await this.#complete(job, data);
        if (!outcome.completed) throw new LeaseLostError(job);
        completed = true;
        return outcome.data;
      },
    };
    entry.done = (async () => {
      try {
        await this.handler(context);
        clearInterval(extender);
        if (completed) {
          this.count("succeeded");
          return;
        }
        if (abort.signal.aborted) return;
        this.count((await this.#complete(job)).completed ? "succeeded" : "lost");
      } catch (error) {
        clearInterval(extender);
        if (abort.signal.aborted) return;
        if (error instanceof WorkerStoppingError && this.#stopping) {
          if (await releaseJob(this.db, job)) this.count("released");
          return;
        }
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        const retry =
          job.attempts < job.maxAttempts ? retryDelayMs(job.attempts, this.#backoff, this.service.random) : null;
        const recorded = await failJob(this.db, job, message.slice(0, 4_000), retry);
        this.count(recorded ? (retry === null ? "failed" : "retried") : "lost");
        this.logger.warn({ err: error, jobId: job.id, queue: job.queue, attempt: job.attempts }, "job failed");
      }
    })()
      .catch((error) => this.logger.error({ err: error, jobId: job.id }, "recording a job's outcome failed"))
      .finally(() => {
        clearInterval(extender);
        this.#running.delete(entry);
        this.wake();
      });
    this.#running.add(entry);
  }

  /**
   * Stops claiming and tells running handlers (`stopping`); waits up to the
   * grace period, then aborts what still runs and hands it back.
   */
  async stop() {
    this.#stopping = true;
    this.#stopped.abort(new WorkerStoppingError(this.queue));
    this.#wake?.();
    await this.#loop;
    // Jobs that finished after the loop's last round trip.
    for (const f of this.#finished.splice(0)) this.#completions.call(f).then(f.recorded, f.failed);
    const running = [...this.#running];
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"grace over">((resolve) => {
      timer = setTimeout(() => resolve("grace over"), this.service.graceMs);
    });
    await Promise.race([Promise.all(running.map((r) => r.done)), graceOver]);
    clearTimeout(timer);
    const late = [...this.#running];
    for (const entry of late) {
      entry.abort.abort(new Error("shutting down"));
      const released = await releaseJob(this.db, entry.job).catch(() => false);
      if (released) this.count("released");
    }
  }
}
