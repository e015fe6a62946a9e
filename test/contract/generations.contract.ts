import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { GENERATION_SEQUENCE_KEY, Generations, generationKey } from "../../src/platform/cache/generations.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { createLogger } from "../../src/platform/logging/logger.ts";
import { RateLimiter } from "../../src/platform/rate-limit/rate-limiter.ts";
import type { TestTime } from "../support/clock.ts";

/**
 * Generations (platform/cache/generations.ts), run on every KvStore: read as
 * readers read them, through the admission round trip. `open` gives two
 * clients of one store (on Redis, two connections: two processes);
 * `time` lets the store's clock move (marks lapse by it).
 */
export function generationsContract(
  name: string,
  open: () => Promise<{ a: KvStore; b: KvStore }>,
  { passTime }: TestTime,
) {
  describe(`generations: ${name}`, () => {
    let a: KvStore;
    let b: KvStore;
    const silent = createLogger("silent");
    const bucket = { limitClass: "api" as const, subject: "generations", limit: { capacity: 1e6, perMinute: 1e6 } };
    /** The generation a reader on `kv` is told, as the admission script reads it. */
    async function current(kv: KvStore, key: string): Promise<number> {
      const admission = await new RateLimiter(kv).admit([], [bucket], key);
      assert.equal(admission.blocked, false);
      return admission.blocked ? -1 : admission.generation;
    }

    before(async () => {
      ({ a, b } = await open());
    });
    after(async () => {
      for await (const key of a.scan("")) await a.del(key);
      await a.close();
      await b.close();
    });

    it("gives a reader a generation that stays put while nothing changes, and 0 when none is asked for", async () => {
      const key = generationKey("things", randomUUID());
      const first = await current(a, key);
      assert.ok(first > 0);
      assert.equal(await current(b, key), first, "every client reads the same generation");
      assert.equal(await current(a, key), first);
      const none = await new RateLimiter(a).admit([], [bucket]);
      assert.equal(none.blocked === false && none.generation, 0);
    });

    it("answers 0 while a change is under way, and a larger generation once it ends", async () => {
      const key = generationKey("things", randomUUID());
      const before = await current(a, key);
      const change = await new Generations(a, silent).begin([key]);
      assert.equal(await current(b, key), 0, "no copy may be served while the write may commit");
      await change.end();
      const afterwards = await current(b, key);
      assert.ok(afterwards > before, `${afterwards} > ${before}`);
      await change.end();
      assert.equal(await current(a, key), afterwards, "a second end changes nothing");
    });

    it("keeps answering 0 until every concurrent change has ended", async () => {
      const key = generationKey("things", randomUUID());
      const one = await new Generations(a, silent).begin([key]);
      const two = await new Generations(b, silent).begin([key]);
      await one.end();
      assert.equal(await current(a, key), 0, "the second write may still commit");
      await two.end();
      assert.ok((await current(a, key)) > 0);
    });

    it("after an end that never came, answers the generation the change began, once its mark lapses", async () => {
      const key = generationKey("things", randomUUID());
      const before = await current(a, key);
      await new Generations(a, silent, { markMs: 150 }).begin([key]);
      assert.equal(await current(b, key), 0);
      await passTime(250);
      const lapsed = await current(b, key);
      assert.ok(lapsed > before, "never the generation a copy from before the write was stored under");
      assert.equal(await current(a, key), lapsed, "and it stays put");
    });

    it("draws a generation larger than any before when the key or the whole sequence is lost", async () => {
      const key = generationKey("things", randomUUID());
      const change = await new Generations(a, silent).begin([key]);
      await change.end();
      const held = await current(a, key);
      await a.del(key);
      const redrawn = await current(b, key);
      assert.ok(redrawn > held, "an expired key: every copy misses once");
      // The sequence restarts from the clock's milliseconds times 1,000, which
      // is past every value drawn since the sequence began a millisecond or more ago.
      await passTime(1);
      await a.del(GENERATION_SEQUENCE_KEY, key);
      const restarted = await current(b, key);
      assert.ok(restarted > redrawn, "a store that lost its data starts the sequence from its clock");
    });

    it("marks many keys in one change, past the slice one script takes", async () => {
      const keys = Array.from({ length: 501 }, () => generationKey("things", randomUUID()));
      const watched = [keys[0], keys[499], keys[500]] as string[];
      const before = await Promise.all(watched.map((k) => current(a, k)));
      const change = await new Generations(a, silent).begin(keys);
      assert.deepEqual(await Promise.all(watched.map((k) => current(b, k))), [0, 0, 0]);
      await change.end();
      const afterwards = await Promise.all(watched.map((k) => current(b, k)));
      assert.ok(afterwards.every((g, i) => g > (before[i] as number)));
    });
  });
}
