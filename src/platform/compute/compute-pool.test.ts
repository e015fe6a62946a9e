import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../errors/app-error.ts";
import { createMetrics } from "../metrics/metrics.ts";
import { ComputePool, defaultComputePoolOptions, POOL_THREAD_NICE } from "./compute-pool.ts";
import { failTask, spin, spinTask, threadPriority, threadPriorityTask } from "./test-tasks.ts";

async function until(condition: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

describe("compute pool", () => {
  it("sizes itself to leave the event loop a core, with a bounded queue and no idle threads", () => {
    const options = defaultComputePoolOptions();
    assert.ok(options.maxThreads >= 1);
    assert.ok(Number.isFinite(options.maxQueue) && options.maxQueue > 0);
    assert.ok(options.idleTimeoutMs > 0);
  });

  it("runs a long task off the main thread while the event loop keeps ticking", async () => {
    const pool = new ComputePool({ maxThreads: 1 });
    try {
      assert.equal(pool.stats().threads, 0, "no thread before the first task");
      await pool.run(spinTask, { ms: 1 }); // start the thread, so the measure below is the task alone
      let ticks = 0;
      let longestGap = 0;
      let last = performance.now();
      const ticker = setInterval(() => {
        const now = performance.now();
        longestGap = Math.max(longestGap, now - last);
        last = now;
        ticks++;
      }, 10);
      const result = await pool.run(spinTask, { ms: 600 });
      clearInterval(ticker);
      assert.notEqual(result.threadId, 0, "ran on a worker thread");
      assert.ok(ticks >= 10, `the loop ticked ${ticks} times during a 600 ms task`);
      assert.ok(longestGap < 400, `the loop was never held for the task's length (longest gap ${longestGap} ms)`);
      assert.equal(spin({ ms: 0 }).threadId, 0, "the same function called here runs on the main thread");
    } finally {
      await pool.close();
    }
  });

  it("runs pool threads at a lower priority than the event loop's (Linux)", async () => {
    const pool = new ComputePool({ maxThreads: 1 });
    try {
      const here = threadPriority({ ms: 0 }).nice as number;
      const there = await pool.run(threadPriorityTask, { ms: 1 });
      assert.equal(there.nice, Math.min(19, here + POOL_THREAD_NICE), "the pool thread is niced");
      assert.equal(threadPriority({ ms: 0 }).nice, here, "the event loop's thread is left as it was");
    } finally {
      await pool.close();
    }
  });

  it("runs small inputs inline, without starting a thread", async () => {
    const metrics = createMetrics();
    const pool = new ComputePool({}, metrics);
    try {
      const result = await pool.run(spinTask, { ms: 0 });
      assert.equal(result.threadId, 0);
      assert.equal(pool.stats().threads, 0);
      assert.deepEqual(pool.stats().completed, { pool: 0, inline: 1 });
      const text = await metrics.registry.metrics();
      assert.match(text, /strata_compute_tasks_total\{task="test.spin",where="inline",outcome="ok"\} 1/);
    } finally {
      await pool.close();
      metrics.stop();
    }
  });

  it("answers 503 compute_busy with Retry-After when every thread is busy and the queue is full", async () => {
    const metrics = createMetrics();
    const pool = new ComputePool({ maxThreads: 1, maxQueue: 1 }, metrics);
    try {
      const running = pool.run(spinTask, { ms: 400 });
      const queued = pool.run(spinTask, { ms: 1 });
      await assert.rejects(pool.run(spinTask, { ms: 1 }), (error: unknown) => {
        assert.ok(error instanceof AppError);
        assert.equal(error.code, "compute_busy");
        assert.equal(error.statusCode, 503);
        assert.ok((error.retryAfterSeconds ?? 0) >= 1);
        return true;
      });
      assert.equal(pool.stats().inFlight, 2);
      await Promise.all([running, queued]);
      assert.equal(pool.stats().inFlight, 0);
      await pool.run(spinTask, { ms: 1 }); // room again once the queue drains
      const text = await metrics.registry.metrics();
      assert.match(text, /strata_compute_tasks_total\{task="test.spin",where="pool",outcome="rejected"\} 1/);
      assert.match(text, /strata_compute_pool\{state="threads"\} 1/);
    } finally {
      await pool.close();
      metrics.stop();
    }
  });

  it("passes a task's own failure through, and keeps serving", async () => {
    const pool = new ComputePool({ maxThreads: 1 });
    try {
      await assert.rejects(pool.run(failTask, { ms: 0 }), /task failed on purpose/);
      assert.notEqual((await pool.run(spinTask, { ms: 1 })).threadId, 0);
    } finally {
      await pool.close();
    }
  });

  it("lets idle threads exit, and starts them again on demand", async () => {
    const pool = new ComputePool({ maxThreads: 1, idleTimeoutMs: 100 });
    try {
      await pool.run(spinTask, { ms: 1 });
      assert.equal(pool.stats().threads, 1);
      assert.ok(await until(() => pool.stats().threads === 0, 10_000), "the idle thread exited");
      assert.notEqual((await pool.run(spinTask, { ms: 1 })).threadId, 0);
    } finally {
      await pool.close();
    }
  });

  it("closes: waits for running tasks, ends its threads, then refuses work", async () => {
    const pool = new ComputePool({ maxThreads: 1 });
    const running = pool.run(spinTask, { ms: 200 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await pool.close();
    assert.notEqual((await running).threadId, 0, "the running task finished");
    assert.equal(pool.stats().threads, 0);
    await assert.rejects(pool.run(spinTask, { ms: 1 }), { code: "compute_busy" });
    await pool.close(); // idempotent
  });
});
