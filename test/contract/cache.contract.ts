import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Caches } from "../../src/platform/cache/cache.ts";
import { CACHE_NAMESPACES } from "../../src/platform/cache/namespaces.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { createMetrics, type Metrics } from "../../src/platform/metrics/metrics.ts";

/** The cache helpers' contract, run on every KvStore implementation. */
export function cacheContract(name: string, open: () => Promise<KvStore>) {
  describe(`caches: ${name}`, () => {
    let kv: KvStore;
    let caches: Caches;
    let metrics: Metrics;
    before(async () => {
      kv = await open();
      metrics = createMetrics();
      caches = new Caches(kv, metrics, createLogger("silent"));
    });
    after(async () => {
      for await (const key of kv.scan("")) await kv.del(key);
      await kv.close();
    });

    const counter = async (namespace: string, outcome: string) => {
      const values = (await metrics.cacheRequests.get()).values;
      return values.find((v) => v.labels.namespace === namespace && v.labels.outcome === outcome)?.value ?? 0;
    };

    it("stores under seed 000's prefixes with their TTLs", async () => {
      for (const [ns, prefix, ttl] of [
        ["doc", "doc:", 300],
        ["ai", "ai:", 1800],
        ["user", "user:", 900],
        ["template", "template:", 3600],
      ] as const) {
        const id = randomUUID();
        await caches.ns(ns).set(id, { id });
        const left = await kv.ttl(`${prefix}${id}`);
        assert.ok(left > (ttl - 5) * 1000 && left <= ttl * 1000, `${ns}: ttl ${left}`);
      }
    });

    it("covers seed 002's namespaces", () => {
      assert.equal(CACHE_NAMESPACES["auth.sessions"].ttlSeconds, 7 * 24 * 3600);
      assert.equal(CACHE_NAMESPACES["api.analytics"].prefix, "api:analytics:");
      assert.equal(CACHE_NAMESPACES["models.embeddings"].ttlSeconds, 24 * 3600);
      assert.equal(CACHE_NAMESPACES["tasks.status"].ttlSeconds, 3600);
    });

    it("loads once and then serves from the cache (cache-aside), counting hits and misses", async () => {
      const key = randomUUID();
      let loads = 0;
      const load = async () => {
        loads++;
        return { value: 42 };
      };
      const missesBefore = await counter("template", "miss");
      const hitsBefore = await counter("template", "hit");
      assert.deepEqual(await caches.ns("template").getOrLoad(key, load), { value: 42 });
      assert.deepEqual(await caches.ns("template").getOrLoad(key, load), { value: 42 });
      assert.equal(loads, 1);
      assert.equal((await counter("template", "miss")) - missesBefore, 1);
      assert.equal((await counter("template", "hit")) - hitsBefore, 1);
    });

    it("writes through and invalidates", async () => {
      const key = randomUUID();
      const written = await caches.ns("doc").writeThrough(key, async () => ({ title: "v2" }));
      assert.deepEqual(written, { title: "v2" });
      assert.deepEqual(await caches.ns("doc").get(key), { title: "v2" });
      await caches.ns("doc").invalidate(key);
      assert.equal(await caches.ns("doc").get(key), undefined);
    });

    it("does not cache undefined results", async () => {
      const key = randomUUID();
      await caches.ns("user").getOrLoad(key, async () => undefined);
      assert.equal(await kv.get(`user:${key}`), null);
    });
  });
}
