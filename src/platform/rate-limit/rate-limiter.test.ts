import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { rateLimiterContract } from "../../../test/contract/rate-limiter.contract.ts";
import { movableTime } from "../../../test/support/clock.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";
import { limitFor } from "./rate-limiter.ts";

// Buckets refill by the store's clock: the contract moves it rather than waiting.
// The limiter's memory of refusals is given the same clock.
const time = movableTime();
rateLimiterContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`, time.clock), time);

describe("rate limits by class, tier and plan", () => {
  it("follows seed 000's tiers for AI routes", () => {
    assert.equal(limitFor("ai", "anonymous").perMinute, 10);
    assert.equal(limitFor("ai", "authenticated").perMinute, 50);
    assert.equal(limitFor("ai", "admin").perMinute, 100);
  });

  it("scales with the plan, and an organization's own setting wins", () => {
    assert.equal(limitFor("ai", "authenticated", "pro").perMinute, 200);
    assert.equal(limitFor("ai", "authenticated", "enterprise", 75).perMinute, 75);
    assert.equal(limitFor("auth", "anonymous", "enterprise").perMinute, 20, "per-IP auth limits ignore plans");
  });
});
