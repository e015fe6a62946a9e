import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { Caches } from "../../src/platform/cache/cache.ts";
import { RedisKvStore } from "../../src/platform/kv/redis-kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { createMetrics } from "../../src/platform/metrics/metrics.ts";
import { cacheContract } from "../contract/cache.contract.ts";
import { hashCacheContract } from "../contract/hash-cache.contract.ts";
import { services } from "../support/services.ts";

cacheContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));
hashCacheContract("redis", () => RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`));

describe("caches when Redis is down", () => {
  it("treat reads as misses and skip writes, so requests still succeed", async () => {
    const kv = await RedisKvStore.connect(services.redisUrl, `test:${randomUUID()}:`);
    const metrics = createMetrics();
    const caches = new Caches(kv, metrics, createLogger("silent"));
    await kv.close();
    let loads = 0;
    const value = await caches.ns("user").getOrLoad("u1", async () => {
      loads++;
      return { name: "from the database" };
    });
    assert.deepEqual(value, { name: "from the database" });
    assert.equal(loads, 1);
    const errors = (await metrics.cacheRequests.get()).values.filter((v) => v.labels.outcome === "error");
    assert.ok(errors.reduce((n, v) => n + v.value, 0) >= 2, "the failed read and write are counted");
    await caches.ns("user").invalidate("u1");
    const after = (await metrics.cacheRequests.get()).values.filter((v) => v.labels.outcome === "error");
    assert.ok(
      after.reduce((n, v) => n + v.value, 0) >= 3,
      "a failed invalidation is counted, and the write that caused it stands",
    );
  });
});
