import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { HashCache, STAMP_FIELD } from "../../src/platform/cache/hash-cache.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { createMetrics, type Metrics } from "../../src/platform/metrics/metrics.ts";

/** The hash cache's contract (platform/cache/hash-cache.ts), run on every KvStore implementation. */
export function hashCacheContract(name: string, open: () => Promise<KvStore>) {
  describe(`hash caches: ${name}`, () => {
    let kv: KvStore;
    let metrics: Metrics;
    let cache: HashCache;
    before(async () => {
      kv = await open();
      metrics = createMetrics();
      cache = new HashCache("contract", 60_000, kv, metrics, createLogger("silent"));
    });
    after(async () => {
      for await (const key of kv.scan("")) await kv.del(key);
      await kv.close();
    });

    const counter = async (outcome: string) =>
      (await metrics.cacheRequests.get()).values.find(
        (v) => v.labels.namespace === "contract" && v.labels.outcome === outcome,
      )?.value ?? 0;

    it("loads once, stores the hash with the cache's TTL, then serves it", async () => {
      const key = `thing:${randomUUID()}`;
      let loads = 0;
      const load = async () => {
        loads++;
        return { name: "one", version: "1" };
      };
      const hits = await counter("hit");
      assert.deepEqual(await cache.getOrLoad(key, load), { name: "one", version: "1" });
      assert.deepEqual(await cache.getOrLoad(key, load), { name: "one", version: "1" });
      assert.equal(loads, 1);
      assert.equal((await counter("hit")) - hits, 1);
      assert.deepEqual(await kv.hgetall(key), { name: "one", version: "1" }, "a plain hash, as the seed lays it out");
      const left = await kv.ttl(key);
      assert.ok(left > 55_000 && left <= 60_000, `ttl ${left}`);
    });

    it("does not cache a load that found nothing", async () => {
      const key = `thing:${randomUUID()}`;
      assert.equal(await cache.getOrLoad(key, async () => undefined), undefined);
      assert.equal(await kv.ttl(key), -2);
    });

    it("drops an entry, keeping only its drop count, and the next read loads and stores again", async () => {
      const key = `thing:${randomUUID()}`;
      await cache.getOrLoad(key, async () => ({ name: "old" }));
      await cache.invalidate(key);
      assert.deepEqual(await kv.hgetall(key), { [STAMP_FIELD]: "1" });
      assert.equal(await cache.get(key), undefined, "a dropped entry is a miss");
      assert.deepEqual(await cache.getOrLoad(key, async () => ({ name: "new" })), { name: "new" });
      assert.deepEqual(await cache.get(key), { name: "new" }, "the count is not part of the entry");
      const left = await kv.ttl(key);
      assert.ok(left > 55_000 && left <= 60_000, `ttl ${left}`);
    });

    it("stores nothing from a load that a drop overtook", async () => {
      const key = `thing:${randomUUID()}`;
      // The write commits and drops the entry while the reader is still loading the row as it was before.
      const loaded = await cache.getOrLoad(key, async () => {
        await cache.invalidate(key);
        return { name: "before the write" };
      });
      assert.deepEqual(loaded, { name: "before the write" }, "the reader still gets what it loaded");
      assert.equal(await cache.get(key), undefined, "but it was not stored");
      // The same with an entry there already and dropped twice.
      await cache.getOrLoad(key, async () => ({ name: "after the write" }));
      await cache.getOrLoad(`${key}:other`, async () => ({ name: "unrelated" }));
      await cache.invalidate(key);
      await cache.getOrLoad(key, async () => {
        await cache.invalidate(key);
        return { name: "stale again" };
      });
      assert.deepEqual(await kv.hgetall(key), { [STAMP_FIELD]: "3" });
      assert.deepEqual(await cache.getOrLoad(key, async () => ({ name: "fresh" })), { name: "fresh" });
      assert.deepEqual(await cache.get(key), { name: "fresh" });
    });

    it("never overwrites a stored entry with a fill", async () => {
      const key = `thing:${randomUUID()}`;
      let finish: (fields: Record<string, string>) => void = () => {};
      const slow = cache.getOrLoad(key, () => new Promise((resolve) => (finish = resolve)));
      await cache.getOrLoad(key, async () => ({ name: "first" }));
      finish({ name: "second", extra: "x" });
      await slow;
      assert.deepEqual(await cache.get(key), { name: "first" });
    });
  });
}
