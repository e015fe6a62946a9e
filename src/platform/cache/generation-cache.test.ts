import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMetrics } from "../metrics/metrics.ts";
import { GenerationCache } from "./generation-cache.ts";

describe("generation cache", () => {
  const metrics = createMetrics();
  const cache = () => new GenerationCache<{ v: string }>(`test-${Math.random()}`, { max: 10, ttlMs: 60_000 }, metrics);

  it("serves an entry only at the generation it was loaded at", async () => {
    const c = cache();
    let loads = 0;
    const load = (v: string) => async () => {
      loads++;
      return { v };
    };
    assert.deepEqual(await c.getOrLoad("k", 5, load("five")), { v: "five" });
    assert.deepEqual(await c.getOrLoad("k", 5, load("unused")), { v: "five" });
    assert.equal(loads, 1);
    assert.deepEqual(await c.getOrLoad("k", 7, load("seven")), { v: "seven" }, "another generation is a miss");
    assert.equal(c.get("k", 5), undefined, "and replaces the older entry");
    assert.deepEqual(c.get("k", 7), { v: "seven" });
  });

  it("keeps the newer generation's entry when an older load finishes last", async () => {
    const c = cache();
    let finishOld: (value: { v: string }) => void = () => {};
    const old = c.getOrLoad("k", 3, () => new Promise((resolve) => (finishOld = resolve)));
    assert.deepEqual(await c.getOrLoad("k", 4, async () => ({ v: "four" })), { v: "four" });
    finishOld({ v: "three" });
    assert.deepEqual(await old, { v: "three" }, "the slow reader still gets what it loaded");
    assert.deepEqual(c.get("k", 4), { v: "four" });
    assert.equal(c.get("k", 3), undefined);
  });

  it("shares one load among concurrent misses of one generation, and stores no undefined", async () => {
    const c = cache();
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return undefined;
    };
    const results = await Promise.all([c.getOrLoad("k", 1, load), c.getOrLoad("k", 1, load)]);
    assert.deepEqual(results, [undefined, undefined]);
    assert.equal(loads, 1);
    await c.getOrLoad("k", 1, load);
    assert.equal(loads, 2, "a missing row is asked for again");
  });
});
