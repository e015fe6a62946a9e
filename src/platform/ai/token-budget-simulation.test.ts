import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VirtualTime } from "../../../test/support/virtual-time.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";
import { AiBudget, type BudgetLimits } from "./token-budget.ts";

/**
 * Several processes drawing on one budget, over simulated minutes: each
 * process is its own AiBudget on the one store, as Strata's processes share
 * one Redis, and every wait (for budget, for the provider's reply, between
 * calls) is a timer on the simulated clock. What is checked is what the
 * provider would see: the tokens and requests that went out, by when.
 */
describe("an AI budget shared by two processes", () => {
  const limits: BudgetLimits = { tokensPerMinute: 2_000, requestsPerMinute: 20, models: {} };
  const MINUTE = 60_000;

  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`never lets more out than the limits allow, in any span of time (workload ${seed})`, async () => {
      const time = new VirtualTime();
      const kv = new MemoryKvStore("sim:", time.clock);
      const processes = [new AiBudget(kv, "p", limits, time.sleep), new AiBudget(kv, "p", limits, time.sleep)];
      const random = mulberry32(seed);
      const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
      const sent: { at: number; tokens: number; process: number }[] = [];
      let aborted = 0;
      let waited = 0;
      const end = time.clock.now() + 10 * MINUTE;

      const worker = async (process: number) => {
        const budget = processes[process] as AiBudget;
        while (time.clock.now() < end) {
          const estimate = between(1, 700);
          const actual = between(0, estimate);
          // Now and then a caller gives up waiting (a job's lease lost, a shutdown).
          const giveUp = random() < 0.15 ? new AbortController() : null;
          if (giveUp) void time.sleep(between(0, 20_000)).then(() => giveUp.abort(new Error("gave up")));
          try {
            const reservation = await budget.acquire({ model: "m", estimatedTokens: estimate, signal: giveUp?.signal });
            waited += reservation.waitedMs;
            sent.push({ at: time.clock.now(), tokens: actual, process });
            await time.sleep(between(200, 8_000)); // the provider at work
            await budget.settle(reservation, actual);
          } catch (error) {
            if (!giveUp?.signal.aborted) throw error;
            aborted++;
          }
          await time.sleep(between(0, 2_000));
        }
      };
      const workers = [0, 0, 0, 1, 1, 1].map(worker);
      await time.run(Number.POSITIVE_INFINITY);
      await Promise.all(workers);
      await kv.close();

      assert.ok(sent.length > 50, `${sent.length} calls went out`);
      assert.ok(new Set(sent.map((s) => s.process)).size === 2, "both processes sent calls");
      assert.ok(waited > 0 && aborted > 0, "callers waited, and some gave up waiting");
      assertWithinBucket(
        sent.map((s) => ({ at: s.at, amount: s.tokens })),
        limits.tokensPerMinute as number,
        "tokens",
      );
      assertWithinBucket(
        sent.map((s) => ({ at: s.at, amount: 1 })),
        limits.requestsPerMinute as number,
        "requests",
      );
      // The ten minutes (what went out after them was asked for within them):
      // at most one minute's burst plus ten minutes of refill.
      const total = sent.filter((s) => s.at <= end).reduce((sum, s) => sum + s.tokens, 0);
      assert.ok(total <= 11 * 2_000, `${total} tokens in ten minutes`);
    });
  }

  it("does not starve a large request among a stream of small ones", async () => {
    const time = new VirtualTime();
    const kv = new MemoryKvStore("sim:", time.clock);
    const budgetLimits: BudgetLimits = { tokensPerMinute: 1_000, requestsPerMinute: null, models: {} };
    const small = new AiBudget(kv, "p", budgetLimits, time.sleep);
    const large = new AiBudget(kv, "p", budgetLimits, time.sleep);
    const start = time.clock.now();
    const end = start + 5 * MINUTE;
    let smallCalls = 0;
    // Four callers that each take 50 tokens the moment they can, without end:
    // on their own they keep the bucket near empty for good.
    const smalls = Array.from({ length: 4 }, async () => {
      while (time.clock.now() < end) {
        await small.acquire({ model: "m", estimatedTokens: 50 });
        smallCalls++;
      }
    });
    let largeWentAt: number | null = null;
    const largeCall = (async () => {
      await time.sleep(10_000);
      await large.acquire({ model: "m", estimatedTokens: 1_000 });
      largeWentAt = time.clock.now();
    })();
    await time.run(Number.POSITIVE_INFINITY);
    await Promise.all([...smalls, largeCall]);
    await kv.close();

    assert.ok(largeWentAt !== null, "the large request went");
    // It asked at 10 s, when the bucket was nearly empty: a minute of refill,
    // plus whatever the small ones had taken in the meantime, at most.
    assert.ok(
      (largeWentAt as number) - start <= 10_000 + 2 * MINUTE,
      `it went after ${(largeWentAt as number) - start} ms`,
    );
    assert.ok(smallCalls > 50, `the small ones went on too (${smallCalls})`);
  });
});

/**
 * What a provider's bucket of one minute's allowance admits: in every span
 * from one send to a later one, at most a full bucket plus the refill over
 * the span. Checked for every pair of sends (a slack of one unit covers the
 * milliseconds the store rounds its waits up to).
 */
function assertWithinBucket(sends: { at: number; amount: number }[], perMinute: number, what: string) {
  const sorted = [...sends].sort((a, b) => a.at - b.at);
  for (let i = 0; i < sorted.length; i++) {
    let sum = 0;
    for (let j = i; j < sorted.length; j++) {
      const send = sorted[j] as { at: number; amount: number };
      sum += send.amount;
      const allowed = perMinute + (perMinute * (send.at - (sorted[i] as { at: number }).at)) / 60_000 + 1;
      assert.ok(
        sum <= allowed,
        `${sum} ${what} went out from ${(sorted[i] as { at: number }).at} to ${send.at}; the bucket allows ${allowed}`,
      );
    }
  }
}

/** A small seeded generator, so every run of a workload is the same run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
