import os from "node:os";
import type { Piscina } from "piscina";
import { errors } from "../errors/catalog.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { ComputeTask } from "./compute-task.ts";

/** How many nice steps below the event loop pool threads run. */
export const POOL_THREAD_NICE = 10;

export interface ComputePoolOptions {
  /** Most worker threads alive at once. */
  maxThreads: number;
  /**
   * Most tasks waiting for a free thread. Past it `run` answers 503
   * `compute_busy` at once: a queue without bound would only turn overload
   * into ever longer waits and growing memory.
   */
  maxQueue: number;
  /** An idle thread exits after this long; none is kept warm. */
  idleTimeoutMs: number;
  /** How long `close` waits for running tasks before it terminates them. */
  closeTimeoutMs: number;
}

/**
 * One thread fewer than the machine has cores (at least one), so the main
 * thread always keeps a core for the event loop; a queue of eight tasks per
 * thread.
 */
export function defaultComputePoolOptions(): ComputePoolOptions {
  const maxThreads = Math.max(1, os.availableParallelism() - 1);
  return { maxThreads, maxQueue: maxThreads * 8, idleTimeoutMs: 30_000, closeTimeoutMs: 10_000 };
}

export interface ComputePoolStats {
  /** Worker threads alive now (0 when idle long enough). */
  threads: number;
  /** Tasks handed to the pool and not finished: running plus waiting. */
  inFlight: number;
  /** Tasks run in the pool since start, and inline. */
  completed: { pool: number; inline: number };
}

/**
 * The process's worker-thread pool for CPU-heavy pure tasks (display diffs of
 * large documents, byte-level deltas), so such work never stalls the event
 * loop. Threads start on first use and exit when idle, so an idle server holds
 * none. Small inputs run inline: see ComputeTask.runsInline.
 */
export class ComputePool {
  readonly options: Readonly<ComputePoolOptions>;
  #piscina: Promise<Piscina> | null = null;
  #started: Piscina | null = null;
  #inFlight = 0;
  readonly #running = new Set<Promise<unknown>>();
  #completed = { pool: 0, inline: 0 };
  #closed = false;

  constructor(
    options: Partial<ComputePoolOptions> = {},
    private readonly metrics?: Metrics,
  ) {
    this.options = Object.freeze({ ...defaultComputePoolOptions(), ...options });
    metrics?.setComputeSource(() => this.stats());
  }

  /** Runs `task` on `input`: inline when the task says the input is small, else on a worker thread. */
  async run<Input, Output>(task: ComputeTask<Input, Output>, input: Input): Promise<Output> {
    if (this.#closed) throw errors.computeBusy(1, "the server is shutting down");
    if (task.runsInline(input)) return this.#runInline(task, input);
    // Admission counts running and waiting tasks ourselves rather than
    // reading the pool's queue, so the bound holds even while threads start.
    if (this.#inFlight >= this.options.maxThreads + this.options.maxQueue) {
      this.metrics?.computeTasks.inc({ task: task.name, where: "pool", outcome: "rejected" });
      throw errors.computeBusy(1, "every compute thread is busy and the queue is full");
    }
    this.#inFlight++;
    const end = this.metrics?.computeDuration.startTimer({ task: task.name, where: "pool" });
    try {
      const pool = await this.#pool();
      const running = pool.run(input, { filename: task.file, name: task.exportName }) as Promise<Output>;
      this.#running.add(running);
      const output = await running.finally(() => this.#running.delete(running));
      this.#completed.pool++;
      end?.();
      this.metrics?.computeTasks.inc({ task: task.name, where: "pool", outcome: "ok" });
      return output;
    } catch (error) {
      this.metrics?.computeTasks.inc({ task: task.name, where: "pool", outcome: "error" });
      throw error;
    } finally {
      this.#inFlight--;
    }
  }

  stats(): ComputePoolStats {
    return { threads: this.#started?.threads.length ?? 0, inFlight: this.#inFlight, completed: { ...this.#completed } };
  }

  /**
   * Refuses new work, waits for admitted tasks (running or queued, up to
   * closeTimeoutMs), then ends every thread. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const pending = this.#piscina;
    this.#piscina = null;
    if (!pending) return;
    const pool = await pending;
    // Piscina's own close drops tasks still queued for a starting thread, so
    // the wait for admitted tasks is done here.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, this.options.closeTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    // Whatever outlived the wait is ended with its thread rather than hang shutdown.
    await pool.destroy();
    this.#started = null;
  }

  #runInline<Input, Output>(task: ComputeTask<Input, Output>, input: Input): Output {
    const end = this.metrics?.computeDuration.startTimer({ task: task.name, where: "inline" });
    try {
      const output = task.run(input);
      this.#completed.inline++;
      // An async task's time is its promise's; the outcome is still counted as ok
      // here, and a rejection reaches the caller unchanged.
      if (output instanceof Promise) output.finally(() => end?.()).catch(() => {});
      else end?.();
      this.metrics?.computeTasks.inc({ task: task.name, where: "inline", outcome: "ok" });
      return output;
    } catch (error) {
      this.metrics?.computeTasks.inc({ task: task.name, where: "inline", outcome: "error" });
      throw error;
    }
  }

  // The library is loaded on first use, so a server that never needs the
  // pool neither loads it nor starts a thread.
  #pool(): Promise<Piscina> {
    if (!this.#piscina) {
      this.#piscina = import("piscina").then(({ Piscina }) => {
        const pool = new Piscina({
          minThreads: 0,
          maxThreads: this.options.maxThreads,
          // Admission in run() is the bound; this slack only keeps piscina
          // from refusing (with an untyped error) a task already admitted.
          maxQueue: this.options.maxThreads + this.options.maxQueue,
          idleTimeout: this.options.idleTimeoutMs,
          // Pool threads share the cores with the event loop (on two cores,
          // one pool thread beside the main thread, the database and any
          // load). At equal priority the kernel splits a core between a busy
          // diff and the event loop, and requests wait their turn behind it;
          // ten nice steps lower, a pool thread runs while the event loop does
          // not need the core, so heavy work is slowed, never the requests.
          // (Piscina applies it through @napi-rs/nice; on Linux a thread's
          // nice value is its own.)
          niceIncrement: POOL_THREAD_NICE,
          closeTimeout: this.options.closeTimeoutMs,
        });
        this.#started = pool;
        return pool;
      });
    }
    return this.#piscina;
  }
}
