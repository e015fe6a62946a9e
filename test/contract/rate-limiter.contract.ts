import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { RateLimiter } from "../../src/platform/rate-limit/rate-limiter.ts";
import type { TestTime } from "../support/clock.ts";

/** The token bucket's contract, run on every KvStore implementation; `time` lets its clock move. */
export function rateLimiterContract(name: string, open: () => Promise<KvStore>, { passTime, clock }: TestTime) {
  describe(`rate limiter: ${name}`, () => {
    let kv: KvStore;
    let limiter: RateLimiter;
    before(async () => {
      kv = await open();
      limiter = new RateLimiter(kv, undefined, clock);
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
      await passTime(150);
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

    describe("admission: the session marker and the buckets in one round trip", () => {
      it("refuses when a marker exists, and charges nothing", async () => {
        const subject = randomUUID();
        const limit = { capacity: 1, perMinute: 1 };
        await kv.set(`auth:revoked:${subject}`, "1", { ttlMs: 60_000 });
        const blocked = await limiter.admit([`auth:revoked:${subject}`], [{ limitClass: "api", subject, limit }]);
        assert.deepEqual(blocked, { blocked: true });
        assert.equal(await kv.ttl(`rate_limit:${subject}:api`), -2, "no bucket was touched");
        const open = await limiter.admit([`auth:revoked:${randomUUID()}`], [{ limitClass: "api", subject, limit }]);
        assert.equal(open.blocked, false);
        assert.equal(open.blocked === false && open.decision?.allowed, true);
      });

      it("allows exactly 50 of 200 concurrent admissions on a bucket of 50", async () => {
        const subject = randomUUID();
        const marker = `auth:revoked:${randomUUID()}`;
        const admissions = await Promise.all(
          Array.from({ length: 200 }, () =>
            limiter.admit([marker], [{ limitClass: "ai", subject, limit: { capacity: 50, perMinute: 50 } }]),
          ),
        );
        const decisions = admissions.map((a) => (a.blocked ? null : a.decision));
        assert.equal(decisions.filter((d) => d?.allowed).length, 50);
        assert.ok(
          decisions.filter((d) => d && !d.allowed).every((d) => d?.remaining === 0 && d.retryAfterSeconds >= 1),
        );
      });

      it("stops at the first bucket that refuses and reports that bucket's limit", async () => {
        const session = randomUUID();
        const ip = randomUUID();
        const buckets = (s: string) => [
          { limitClass: "ai" as const, subject: s, limit: { capacity: 2, perMinute: 2 } },
          { limitClass: "ai" as const, subject: ip, limit: { capacity: 3, perMinute: 3 } },
        ];
        const results = [];
        for (const s of [session, session, session, randomUUID()]) results.push(await limiter.admit([], buckets(s)));
        const decisions = results.map((r) => (r.blocked ? null : r.decision));
        assert.deepEqual(
          decisions.map((d) => d?.allowed),
          [true, true, false, true],
        );
        assert.equal(decisions[2]?.limit, 2, "the session's bucket refused, and the IP's was not charged");
        const fourth = decisions[3];
        assert.equal(fourth?.limit, 2, "an allowed admission reports the first bucket");
        const ipOut = await limiter.admit([], buckets(randomUUID()));
        assert.equal(ipOut.blocked === false && ipOut.decision?.allowed, false, "the IP's bucket (3) is spent");
        assert.equal(ipOut.blocked === false && ipOut.decision?.limit, 3);
      });
    });
  });
}
