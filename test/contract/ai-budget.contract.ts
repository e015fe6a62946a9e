import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { budgetReserveScript } from "../../src/platform/ai/budget-scripts.ts";
import { AiBudget, type BudgetLimits, budgetKey } from "../../src/platform/ai/token-budget.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { sleep as realSleep, type Sleep } from "../../src/platform/sleep.ts";
import type { TestTime } from "../support/clock.ts";

/**
 * The AI token budget's contract (its two scripts, budget-scripts.ts), run
 * on every KvStore implementation. The limits are chosen so that what is
 * checked never depends on how fast the machine is: a refusal is for
 * seconds or minutes of refill, far more than the test takes, and a wait
 * the store names is checked against the time that really passed around it.
 */
export function aiBudgetContract(name: string, open: () => Promise<KvStore>, time: TestTime) {
  describe(`AI token budget: ${name}`, () => {
    let kv: KvStore;
    const provider = `provider-${randomUUID()}`;
    before(async () => {
      kv = await open();
    });
    after(async () => {
      for await (const key of kv.scan("")) await kv.del(key);
      await kv.close();
    });

    /** A budget with these default limits, whose every wait is recorded and then refused. */
    const refusing = (limits: Partial<BudgetLimits>) => {
      const waits: number[] = [];
      const budget = new AiBudget(kv, provider, withDefaults(limits), async (ms) => {
        waits.push(ms);
        throw new WouldWait(ms);
      });
      return { budget, waits };
    };

    /** A budget whose waits pass: the store's clock moves (in-process) or real time passes (a server). */
    const passing = (limits: Partial<BudgetLimits>) => {
      const waits: number[] = [];
      const asleepAt: number[] = [];
      const sleep: Sleep = async (ms, signal) => {
        waits.push(ms);
        asleepAt.push(performance.now());
        if (time.clock) await time.passTime(ms);
        else await realSleep(ms, signal);
      };
      return { budget: new AiBudget(kv, provider, withDefaults(limits), sleep), waits, asleepAt };
    };

    it("charges a request and its tokens at once while the budget has them", async () => {
      const { budget, waits } = refusing({ tokensPerMinute: 1_000, requestsPerMinute: 100 });
      const model = randomUUID();
      const first = await budget.acquire({ model, estimatedTokens: 600 });
      assert.deepEqual(first, { model, tokens: 600, waitedMs: 0 });
      await budget.acquire({ model, estimatedTokens: 400 });
      // 1,000 tokens a minute refill one every 60 ms: the next 100 are 6 s away.
      await assert.rejects(budget.acquire({ model, estimatedTokens: 100 }), WouldWait);
      assert.equal(waits.length, 1);
      assert.ok((waits[0] as number) > 5_000 && (waits[0] as number) <= 6_000, `waits ${waits[0]} ms`);
      const ttl = await kv.ttl(budgetKey(provider, model));
      assert.ok(ttl > 0 && ttl <= 62_000, `the budget expires once it would be full again (${ttl} ms)`);
    });

    it("lets exactly what the bucket holds through when many ask at once", async () => {
      const { budget } = refusing({ tokensPerMinute: 1_000 });
      const model = randomUUID();
      const outcomes = await Promise.allSettled(
        Array.from({ length: 40 }, () => budget.acquire({ model, estimatedTokens: 100 })),
      );
      assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 10);
      assert.ok(outcomes.every((o) => o.status === "fulfilled" || o.reason instanceof WouldWait));
    });

    it("counts requests apart from tokens", async () => {
      const { budget, waits } = refusing({ tokensPerMinute: 1_000_000, requestsPerMinute: 30 });
      const model = randomUUID();
      for (let i = 0; i < 30; i++) await budget.acquire({ model, estimatedTokens: 1 });
      await assert.rejects(budget.acquire({ model, estimatedTokens: 1 }), WouldWait);
      // 30 a minute: one every 2 s.
      assert.ok((waits[0] as number) > 1_000 && (waits[0] as number) <= 2_000, `waits ${waits[0]} ms`);
    });

    it("sleeps for the time the store names, then goes", async () => {
      // 600,000 tokens a minute: 10 a millisecond, so the waits here are short.
      const { budget, waits, asleepAt } = passing({ tokensPerMinute: 600_000 });
      const model = randomUUID();
      const started = performance.now();
      await budget.acquire({ model, estimatedTokens: 600_000 });
      const reservation = await budget.acquire({ model, estimatedTokens: 1_000 });
      assert.ok(reservation.waitedMs > 0, "it waited");
      const named = waits[0] as number;
      assert.ok(named <= 100, `1,000 tokens refill in 100 ms; the store named ${named}`);
      // On a server, real time passed between the two decisions, but no more than this.
      const elapsed = (asleepAt[0] as number) - started;
      if (!time.clock) assert.ok(named >= 100 - elapsed - 2, `named ${named} ms with ${elapsed} ms gone by`);
    });

    it("refunds what a call did not use, never past a full bucket", async () => {
      const { budget } = refusing({ tokensPerMinute: 1_000 });
      const model = randomUUID();
      const big = await budget.acquire({ model, estimatedTokens: 1_000 });
      await budget.settle(big, 300);
      await budget.acquire({ model, estimatedTokens: 700 });
      await assert.rejects(budget.acquire({ model, estimatedTokens: 100 }), WouldWait, "the refund was 700, no more");

      const other = randomUUID();
      const small = await budget.acquire({ model: other, estimatedTokens: 100 });
      await budget.settle(small, 0);
      await budget.acquire({ model: other, estimatedTokens: 1_000 });
      await assert.rejects(
        budget.acquire({ model: other, estimatedTokens: 100 }),
        WouldWait,
        "a refund into a full bucket is lost, not saved up",
      );
      await assert.rejects(budget.settle(small, 0), /already settled/);
    });

    it("charges what a call used beyond its estimate, and later calls wait for it", async () => {
      const { budget, waits } = refusing({ tokensPerMinute: 1_000 });
      const model = randomUUID();
      const reservation = await budget.acquire({ model, estimatedTokens: 100 });
      await budget.settle(reservation, 1_500);
      await assert.rejects(budget.acquire({ model, estimatedTokens: 1 }), WouldWait);
      // 500 tokens of debt and one more to take: about 30 s of refill.
      assert.ok((waits[0] as number) > 29_000 && (waits[0] as number) <= 30_060, `waits ${waits[0]} ms`);
    });

    it("lets a request larger than the whole budget go alone once the bucket is full, and carries its debt", async () => {
      const { budget, waits } = refusing({ tokensPerMinute: 1_000 });
      const model = randomUUID();
      const huge = await budget.acquire({ model, estimatedTokens: 5_000 });
      assert.equal(huge.waitedMs, 0, "a full bucket lets it through");
      await assert.rejects(budget.acquire({ model, estimatedTokens: 1 }), WouldWait);
      assert.ok((waits[0] as number) > 239_000, `the next waits out 4,000 tokens of debt (${waits[0]} ms)`);

      const { budget: patient, waits: patientWaits } = passing({ tokensPerMinute: 600_000 });
      const second = randomUUID();
      await patient.acquire({ model: second, estimatedTokens: 1_000 });
      const oversized = await patient.acquire({ model: second, estimatedTokens: 2_000_000 });
      assert.ok(oversized.waitedMs > 0, "on a bucket not full, it waits until it is");
      assert.ok((patientWaits[0] as number) <= 100, "for the 1,000 tokens missing, not for 2,000,000");
    });

    it("holds back small requests that would keep a waiting large one from its turn", async () => {
      const model = randomUUID();
      const { budget: smalls } = refusing({ tokensPerMinute: 1_000 });
      await smalls.acquire({ model, estimatedTokens: 900 });
      // Without the waiting line, 100 tokens left would serve a 50-token request now, and
      // the next, as each refilled, and the 1,000-token one would never find room.
      const aborting = new AbortController();
      let asleep: () => void = () => {};
      const sleeping = new Promise<void>((resolve) => {
        asleep = resolve;
      });
      const large = new AiBudget(kv, provider, withDefaults({ tokensPerMinute: 1_000 }), (_ms, signal) => {
        asleep();
        return realSleep(600_000, signal);
      });
      const waiting = large.acquire({ model, estimatedTokens: 1_000, signal: aborting.signal });
      await sleeping;
      await assert.rejects(smalls.acquire({ model, estimatedTokens: 50 }), WouldWait);

      // Aborting the large one's wait takes it out of line, and charges nothing.
      aborting.abort(new Error("shutting down"));
      await assert.rejects(waiting, /shutting down/);
      await smalls.acquire({ model, estimatedTokens: 50 });
      await smalls.acquire({ model, estimatedTokens: 50 });
      await assert.rejects(smalls.acquire({ model, estimatedTokens: 50 }), WouldWait);
    });

    it("forgets a waiter that does not come back", async () => {
      const { budget } = refusing({ tokensPerMinute: 600_000 });
      const model = randomUUID();
      const key = budgetKey(provider, model);
      await budget.acquire({ model, estimatedTokens: 599_000 });
      // A process asks for 2,000 tokens (about 100 ms of refill away), with no
      // grace, and is never heard from again.
      const [granted, waitMs] = (await kv.runScript(
        budgetReserveScript,
        [key],
        [600_000, 0.1, 0, 0, 2_000, "gone", 0, ""],
      )) as number[];
      assert.equal(granted, 0);
      assert.ok("w:gone" in (await kv.hgetall(key)), "it waits in line");
      await time.passTime((waitMs as number) + 50);
      await budget.acquire({ model, estimatedTokens: 10 });
      assert.ok(!("w:gone" in (await kv.hgetall(key))), "its place lapsed");
    });

    it("rejects at once, charging nothing, when the signal has already aborted", async () => {
      const { budget } = refusing({ tokensPerMinute: 100 });
      const model = randomUUID();
      await assert.rejects(
        budget.acquire({ model, estimatedTokens: 1, signal: AbortSignal.abort(new Error("gone")) }),
        /gone/,
      );
      await budget.acquire({ model, estimatedTokens: 100 });
    });

    it("releases a call that was never sent: its tokens and its request", async () => {
      const { budget } = refusing({ tokensPerMinute: 1_000, requestsPerMinute: 1 });
      const model = randomUUID();
      await budget.release(await budget.acquire({ model, estimatedTokens: 1_000 }));
      await budget.acquire({ model, estimatedTokens: 1_000 });
      await assert.rejects(budget.acquire({ model, estimatedTokens: 1 }), WouldWait);
    });

    it("keeps models and providers apart, and a model's own limits replace the defaults", async () => {
      const model = randomUUID();
      const limits = { tokensPerMinute: 100, models: { [model]: { tokensPerMinute: 1_000, requestsPerMinute: null } } };
      const { budget } = refusing(limits);
      // Twice 500 fits 1,000 a minute; on the default 100 the second would wait.
      await budget.acquire({ model, estimatedTokens: 500 });
      await budget.acquire({ model, estimatedTokens: 500 });
      await assert.rejects(budget.acquire({ model, estimatedTokens: 1 }), WouldWait);
      await budget.acquire({ model: randomUUID(), estimatedTokens: 100 });
      const elsewhere = new AiBudget(kv, `other-${provider}`, withDefaults(limits), async () => {
        throw new WouldWait(0);
      });
      await elsewhere.acquire({ model, estimatedTokens: 500 });
      await elsewhere.acquire({ model, estimatedTokens: 500 });
    });

    it("waits for nothing and touches nothing without limits", async () => {
      const { budget } = refusing({});
      const model = randomUUID();
      for (let i = 0; i < 100; i++) await budget.settle(await budget.acquire({ model, estimatedTokens: 1e9 }), 2e9);
      assert.equal(await kv.ttl(budgetKey(provider, model)), -2);
    });
  });
}

class WouldWait extends Error {
  constructor(readonly ms: number) {
    super(`would wait ${ms} ms`);
  }
}

function withDefaults(limits: Partial<BudgetLimits>): BudgetLimits {
  return { tokensPerMinute: null, requestsPerMinute: null, models: {}, ...limits };
}
