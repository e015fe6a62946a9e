import { hostname } from "node:os";
import type { Logger } from "pino";
import { BatchedCalls } from "../../platform/batching/batched-calls.ts";
import type { KvStore } from "../../platform/kv/kv-store.ts";
import {
  kvKeys,
  PIPELINE_STATS_TTL_MS,
  pipelineStatsMember,
  WORKER_HEARTBEAT_TTL_MS,
  WORKER_LOCK_TTL_MS,
  type WorkerHeartbeatFields,
} from "./kv-keys.ts";
import { contextLocksScript } from "./kv-scripts.ts";

/** A context begun (its lock to take) or ended (its lock to drop, and its duration when it completed). */
interface LockChange {
  held?: string;
  released?: { contextId: string; completed: { pipelineId: string; durationMs: number } | undefined };
}

const HEARTBEAT_EVERY_MS = WORKER_HEARTBEAT_TTL_MS / 4;
const LOCK_EXTENDED_EVERY_MS = WORKER_LOCK_TTL_MS / 5;

/**
 * A worker process's presence in seed 001's Redis structures: its
 * `worker_heartbeat:{worker_id}` hash (last seen, status, how many contexts
 * it holds, host), beaten every 15 s with a 60 s TTL, so a dead worker's
 * entry disappears within a minute; and the `worker_lock:{context_id}` of
 * each context it holds, taken when it starts one and extended every
 * minute of the lock's five while it works.
 *
 * The locks show which worker holds a context; what keeps two workers from
 * finishing one context is the job's lease and its fencing (jobs.ts). So a
 * worker that holds a context's job takes over a lock still naming a worker
 * whose claim was lost (it died, or stalled past its lease), instead of
 * waiting out the dead worker's five minutes.
 */
export class WorkerPresence {
  readonly #held = new Set<string>();
  readonly #afterwards = new Set<Promise<unknown>>();
  readonly #startedAt = new Date().toISOString();
  #status: WorkerHeartbeatFields["status"] = "idle";
  #timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly kv: KvStore,
    readonly workerId: string,
    private readonly concurrency: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.#beat();
    const every = (ms: number, task: () => Promise<void>) => {
      const timer = setInterval(() => {
        task().catch((error) => this.logger.warn({ err: error }, "generation worker presence: a write failed"));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(HEARTBEAT_EVERY_MS, () => this.#beat());
    every(LOCK_EXTENDED_EVERY_MS, () => this.#extendLocks());
  }

  /** Takes the context's worker_lock (taking it over from a lost claim's worker). */
  async hold(contextId: string): Promise<void> {
    this.#held.add(contextId);
    this.#status = "processing";
    const from = await this.#locks.call({ held: contextId });
    if (from) this.logger.info({ contextId, from }, "took over a context whose worker lost its claim");
  }

  /**
   * Drops the context's worker_lock, if it is still this worker's; with
   * `completed`, records its duration in the pipeline's pipeline_stats in
   * the same round trip.
   */
  async release(contextId: string, completed?: { pipelineId: string; durationMs: number }): Promise<void> {
    this.#held.delete(contextId);
    if (this.#held.size === 0) this.#status = "idle";
    await this.#locks.call({ released: { contextId, completed } });
  }

  /**
   * The locks of contexts begun and ended together (a claim's starts, and
   * the ends it recorded), in one round trip: contextLocksScript.
   */
  readonly #locks = new BatchedCalls<LockChange, string>(async (changes) => {
    const held = changes.flatMap((change) => (change.held ? [change.held] : []));
    const keys = held.map((id) => kvKeys.workerLock(id));
    const members: string[] = [];
    for (const { released } of changes) {
      if (!released) continue;
      const lock = kvKeys.workerLock(released.contextId);
      const { completed } = released;
      keys.push(lock, completed ? kvKeys.pipelineStats(completed.pipelineId) : lock);
      members.push(completed ? pipelineStatsMember(completed.durationMs, released.contextId) : "");
    }
    const now = Date.now();
    const from = (await this.kv.runScript(contextLocksScript, keys, [
      this.workerId,
      WORKER_LOCK_TTL_MS,
      held.length,
      now,
      now - PIPELINE_STATS_TTL_MS,
      PIPELINE_STATS_TTL_MS,
      ...members,
    ])) as string[];
    let next = 0;
    return changes.map((change) => (change.held ? (from[next++] ?? "") : ""));
  });

  /** Work after a context's end, off its slot (its KV writes, its batch's end): stop() waits for it. */
  afterward(work: Promise<unknown>): void {
    this.#afterwards.add(work);
    const done = () => this.#afterwards.delete(work);
    work.then(done, done);
  }

  /**
   * Waits for the work left after contexts' ends, stops beating and removes
   * the heartbeat: a stopped worker is not listed as live.
   */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.#afterwards]);
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    this.#status = "stopping";
    await this.kv.del(kvKeys.workerHeartbeat(this.workerId)).catch(() => 0);
  }

  async #beat(): Promise<void> {
    const key = kvKeys.workerHeartbeat(this.workerId);
    const fields: WorkerHeartbeatFields = {
      last_seen: new Date().toISOString(),
      status: this.#status,
      processing_count: String(this.#held.size),
      host: hostname(),
      pid: String(process.pid),
      concurrency: String(this.concurrency),
      started_at: this.#startedAt,
    };
    await this.kv.hset(key, { ...fields });
    await this.kv.expire(key, WORKER_HEARTBEAT_TTL_MS);
  }

  async #extendLocks(): Promise<void> {
    await Promise.all(
      [...this.#held].map((contextId) =>
        this.kv.compareAndSet(kvKeys.workerLock(contextId), this.workerId, this.workerId, {
          ttlMs: WORKER_LOCK_TTL_MS,
        }),
      ),
    );
  }
}
