import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Caches } from "../../src/platform/cache/cache.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { createMetrics } from "../../src/platform/metrics/metrics.ts";
import { TestClock } from "../support/clock.ts";

/**
 * In-process caches invalidated across processes, on every KvStore: two
 * Caches stand for two processes, each over its own connection (`a`, `b`)
 * to one shared store.
 */
export function localCacheContract(name: string, open: () => Promise<{ a: KvStore; b: KvStore }>) {
  describe(`local caches across processes: ${name}`, () => {
    let stores: { a: KvStore; b: KvStore };
    let one: Caches;
    let two: Caches;
    const logger = createLogger("silent");
    const options = { ttlMs: 60_000, max: 100 };
    // TTLs are kept in each process, whatever the store: a test clock moves them.
    const clock = new TestClock();

    before(async () => {
      stores = await open();
      one = new Caches(stores.a, createMetrics(), logger, clock);
      two = new Caches(stores.b, createMetrics(), logger, clock);
      await one.local.listen();
      await two.local.listen();
    });
    after(async () => {
      await one.local.close();
      await two.local.close();
      await stores.a.close();
      if (stores.b !== stores.a) await stores.b.close();
    });

    /** Resolves once `check` holds, failing after two seconds (far below the TTL, so only a message can do it). */
    async function eventually(check: () => boolean, what: string) {
      const deadline = Date.now() + 2_000;
      while (!check()) {
        if (Date.now() > deadline) assert.fail(`not seen within 2 s: ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    it("drops an entry in the other process when one invalidates it, long before the TTL", async () => {
      const key = randomUUID();
      let source = "free";
      const load = async () => source;
      assert.equal(await one.local.cache<string>("plans", options).getOrLoad(key, load), "free");
      assert.equal(await two.local.cache<string>("plans", options).getOrLoad(key, load), "free");
      source = "pro";
      assert.equal(await two.local.cache<string>("plans", options).getOrLoad(key, load), "free", "cached");
      await one.local.invalidate("plans", key);
      assert.equal(one.local.cache<string>("plans", options).get(key), undefined, "dropped here at once");
      await eventually(() => two.local.cache<string>("plans", options).get(key) === undefined, "the other drop");
      assert.equal(await two.local.cache<string>("plans", options).getOrLoad(key, load), "pro");
    });

    it("leaves other keys and other caches alone", async () => {
      const key = randomUUID();
      const kept = randomUUID();
      await two.local.cache<string>("plans", options).getOrLoad(key, async () => "a");
      await two.local.cache<string>("plans", options).getOrLoad(kept, async () => "b");
      await two.local.cache<string>("roles", options).getOrLoad(key, async () => "c");
      await one.local.invalidate("plans", key);
      await eventually(() => two.local.cache<string>("plans", options).get(key) === undefined, "the drop");
      assert.equal(two.local.cache<string>("plans", options).get(kept), "b");
      assert.equal(two.local.cache<string>("roles", options).get(key), "c");
    });

    it("does not store a value loaded while an invalidation arrived", async () => {
      const key = randomUUID();
      const cache = two.local.cache<string>("plans", options);
      let release: (value: string) => void = () => {};
      const loading = cache.getOrLoad(key, () => new Promise<string>((resolve) => (release = resolve)));
      await one.local.invalidate("plans", key);
      // Give the message time to arrive before the old value does.
      await new Promise((resolve) => setTimeout(resolve, 100));
      release("read before the change");
      assert.equal(await loading, "read before the change");
      assert.equal(cache.get(key), undefined, "the stale load was not kept");
    });

    it("expires entries by TTL when no message comes", async () => {
      const key = randomUUID();
      const cache = one.local.cache<string>("short", { ttlMs: 50, max: 10 });
      await cache.getOrLoad(key, async () => "x");
      clock.advance(50);
      assert.equal(cache.get(key), "x", "still there at exactly its TTL");
      clock.advance(1);
      assert.equal(cache.get(key), undefined, "gone past it");
    });
  });
}
