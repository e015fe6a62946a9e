import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Caches } from "../../src/platform/cache/cache.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { createMetrics, type Metrics } from "../../src/platform/metrics/metrics.ts";

/**
 * Seed 004's two-tier cache on every KvStore: two Caches stand for two
 * processes, each over its own connection to one shared store, so the warm
 * tier is shared and each hot tier is its own.
 */
export function tieredCacheContract(name: string, open: () => Promise<{ a: KvStore; b: KvStore }>) {
  describe(`two-tier cache: ${name}`, () => {
    let stores: { a: KvStore; b: KvStore };
    let one: Caches;
    let two: Caches;
    let metricsOne: Metrics;
    const logger = createLogger("silent");
    const options = { hotBytes: 1_000_000, warmBytes: 1_000_000, ttlMs: 60_000 };

    before(async () => {
      stores = await open();
      metricsOne = createMetrics();
      one = new Caches(stores.a, metricsOne, logger);
      two = new Caches(stores.b, createMetrics(), logger);
      await one.local.listen();
      await two.local.listen();
    });
    after(async () => {
      await one.local.close();
      await two.local.close();
      await stores.a.close();
      if (stores.b !== stores.a) await stores.b.close();
      metricsOne.stop();
    });

    it("answers from the hot tier, then the warm tier another process filled, then the loader", async () => {
      const name = `c${randomUUID().slice(0, 8)}`;
      const a = one.tiered.cache<{ n: number }>(name, options);
      const b = two.tiered.cache<{ n: number }>(name, options);
      let loads = 0;
      const load = async () => ({ n: ++loads });
      assert.deepEqual(await a.getOrLoad("k", load), { n: 1 });
      assert.deepEqual(await a.getOrLoad("k", load), { n: 1 }, "the hot tier");
      assert.deepEqual(await b.getOrLoad("k", load), { n: 1 }, "the warm tier, filled by the other process");
      assert.equal(loads, 1);
      assert.equal(a.hitRatio("hot"), 0.5);
      assert.equal(b.hitRatio("hot"), 0);
      assert.equal(b.hitRatio("warm"), 1);
      const exposed = await metricsOne.registry.getSingleMetricAsString("strata_cache_hit_ratio");
      assert.match(exposed, new RegExp(`strata_cache_hit_ratio\\{cache="${name}",tier="hot"\\} 0\\.5`));
    });

    it("invalidates the warm tier and every process's hot tier", async () => {
      const name = `c${randomUUID().slice(0, 8)}`;
      const a = one.tiered.cache<{ v: string }>(name, options);
      const b = two.tiered.cache<{ v: string }>(name, options);
      let source = "old";
      const load = async () => ({ v: source });
      await a.getOrLoad("k", load);
      await b.getOrLoad("k", load);
      source = "new";
      await a.invalidate("k");
      const deadline = Date.now() + 2_000;
      while ((await b.getOrLoad("k", load))?.v !== "new") {
        if (Date.now() > deadline) assert.fail("the other process's hot tier kept the old value");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal((await a.getOrLoad("k", load))?.v, "new");
    });

    it("keeps the warm tier within its bound in bytes, evicting the least recently used", async () => {
      const name = `c${randomUUID().slice(0, 8)}`;
      // Each value is about 100 bytes of JSON: a bound of 550 holds five.
      const small = { ...options, hotBytes: 1, warmBytes: 550 };
      const a = one.tiered.cache<{ text: string }>(name, small);
      const value = (i: number) => ({ text: `${i}`.padEnd(90, "x") });
      for (let i = 0; i < 5; i++) await a.getOrLoad(`k${i}`, async () => value(i));
      // Use k0, so k1 is now the least recently used.
      let reloaded = 0;
      await a.getOrLoad("k0", async () => {
        reloaded++;
        return value(0);
      });
      assert.equal(reloaded, 0, "k0 came from the warm tier");
      await a.getOrLoad("k5", async () => value(5));
      const loadedAgain: string[] = [];
      for (const key of ["k0", "k1", "k2", "k5"]) {
        await a.getOrLoad(key, async () => {
          loadedAgain.push(key);
          return value(Number(key.slice(1)));
        });
      }
      assert.deepEqual(loadedAgain.slice(0, 1), ["k1"], "the least recently used went first");
      assert.ok(!loadedAgain.includes("k5") && !loadedAgain.includes("k0"));
    });

    it("keeps the hot tier within its bound in bytes", async () => {
      const name = `c${randomUUID().slice(0, 8)}`;
      const a = one.tiered.cache<{ text: string }>(name, { ...options, hotBytes: 2_000 });
      for (let i = 0; i < 50; i++) await a.getOrLoad(`k${i}`, async () => ({ text: "y".repeat(100) }));
      assert.ok(a.hotBytes > 0 && a.hotBytes <= 2_000, `${a.hotBytes} bytes held`);
    });
  });
}
