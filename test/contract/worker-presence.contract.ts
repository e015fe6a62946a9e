import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { kvKeys, PIPELINE_STATS_TTL_MS, WORKER_LOCK_TTL_MS } from "../../src/modules/generation/kv-keys.ts";
import { WorkerPresence } from "../../src/modules/generation/worker-presence.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { kvStoreForSuite } from "../support/kv-suite.ts";

/**
 * Seed 001's worker structures as WorkerPresence writes them, on every
 * key-value store (its scripts run as Lua on Redis and as functions on the
 * in-process store, and must agree): the worker_locks of contexts held
 * together, taken in one script (over a lost claim's worker too), and their
 * release with pipeline_stats, only for the locks still this worker's.
 */
export function workerPresenceContract(name: string, open: () => Promise<KvStore>) {
  describe(`generation worker presence: ${name}`, () => {
    const store = kvStoreForSuite(open);
    let kv: KvStore;
    let presence: WorkerPresence;
    before(() => {
      kv = store();
      presence = new WorkerPresence(kv, "worker-a", 4, createLogger("silent"));
    });

    it("takes the locks of contexts held together, a lost claim's lock too, with the seed's TTL", async () => {
      await kv.set(kvKeys.workerLock("c2"), "dead-worker", { ttlMs: 60_000 });
      await Promise.all(["c1", "c2", "c3"].map((id) => presence.hold(id)));
      for (const id of ["c1", "c2", "c3"]) {
        assert.equal(await kv.get(kvKeys.workerLock(id)), "worker-a");
        const ttl = await kv.ttl(kvKeys.workerLock(id));
        assert.ok(ttl > WORKER_LOCK_TTL_MS - 5_000 && ttl <= WORKER_LOCK_TTL_MS, `lock TTL ${ttl}`);
      }
    });

    it("releases contexts ended together: their locks (only this worker's), and the completed ones' durations for a day", async () => {
      // Another worker took c3 over meanwhile: its lock is not this worker's to drop.
      await kv.set(kvKeys.workerLock("c3"), "worker-b", { ttlMs: 60_000 });
      // A duration from two days ago: the seed keeps a day of them.
      await kv.zadd(kvKeys.pipelineStats("p1"), [{ member: "50:old", score: Date.now() - 2 * PIPELINE_STATS_TTL_MS }]);
      await Promise.all([
        presence.release("c1", { pipelineId: "p1", durationMs: 120 }),
        presence.release("c2"),
        presence.release("c3", { pipelineId: "p1", durationMs: 80 }),
      ]);
      assert.equal(await kv.get(kvKeys.workerLock("c1")), null);
      assert.equal(await kv.get(kvKeys.workerLock("c2")), null);
      assert.equal(await kv.get(kvKeys.workerLock("c3")), "worker-b");
      const stats = await kv.zrange(kvKeys.pipelineStats("p1"), 0, -1);
      assert.deepEqual(stats.map((s) => s.member).sort(), ["120:c1", "80:c3"]);
      const ttl = await kv.ttl(kvKeys.pipelineStats("p1"));
      assert.ok(ttl > PIPELINE_STATS_TTL_MS - 60_000 && ttl <= PIPELINE_STATS_TTL_MS, `stats TTL ${ttl}`);
    });
  });
}
