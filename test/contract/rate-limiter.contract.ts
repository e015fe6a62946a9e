import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { RateLimiter } from "../../src/platform/rate-limit/rate-limiter.ts";

/** The token bucket's contract, run on every KvStore implementation. */
export function rateLimiterContract(name: string, open: () => Promise<KvStore>) {
  describe(`rate limiter: ${name}`, () => {
    let kv: KvStore;
    let limiter: RateLimiter;
    before(async () => {
      kv = await open();
      limiter = new RateLimiter(kv);
    });
    after(async () => {
      for await (const key of kv.scan("")) await kv.del(key);
      await kv.close();
    });

    it("allows exactly 50 of 200 concurrent requests on a bucket of 50", async () => {
      const subject = randomUUID();
      const decisions = await Promise.all(
        Array.from({ length: 200 }, () => limiter.take("ai", subject, { capacity: 50, perMinute: 50 })),
      );
      assert.equal(decisions.filter((d) => d.allowed).length, 50);
      const refused = decisions.filter((d) => !d.allowed);
      assert.equal(refused.length, 150);
      assert.ok(refused.every((d) => d.retryAfterSeconds >= 1 && d.remaining === 0));
      assert.ok(refused.every((d) => d.limit === 50));
    });

    it("refills continuously at the sustained rate", async () => {
      const subject = randomUUID();
      const limit = { capacity: 2, perMinute: 600 }; // one token every 100 ms
      assert.equal((await limiter.take("api", subject, limit)).allowed, true);
      const second = await limiter.take("api", subject, limit);
      assert.equal(second.allowed, true);
      assert.equal(second.remaining, 0);
      const third = await limiter.take("api", subject, limit);
      assert.equal(third.allowed, false);
      assert.equal(third.retryAfterSeconds, 1, "100 ms rounds up to a whole second for Retry-After");
      await new Promise((resolve) => setTimeout(resolve, 150));
      assert.equal((await limiter.take("api", subject, limit)).allowed, true);
    });

    it("keeps subjects and classes apart, and lets idle buckets expire", async () => {
      const a = randomUUID();
      const limit = { capacity: 1, perMinute: 1 };
      assert.equal((await limiter.take("ai", a, limit)).allowed, true);
      assert.equal((await limiter.take("ai", a, limit)).allowed, false);
      assert.equal((await limiter.take("auth", a, limit)).allowed, true, "another class, another bucket");
      assert.equal((await limiter.take("ai", randomUUID(), limit)).allowed, true, "another subject, another bucket");
      const ttl = await kv.ttl(`rate_limit:${a}:ai`);
      assert.ok(ttl > 0 && ttl <= 61_000, `bucket expires once it would be full (${ttl} ms)`);
    });
  });
}
