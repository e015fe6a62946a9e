import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KvScript, KvStore } from "../../src/platform/kv/kv-store.ts";
import { KvWrongTypeError } from "../../src/platform/kv/kv-store.ts";
import type { TestTime } from "../support/clock.ts";

/**
 * The contract every KvStore implementation passes, unchanged. `open` must
 * return a store whose key prefix is unique to this run, so runs never see
 * each other's keys on a shared Redis. `passTime` lets time pass for the
 * store's TTLs (test/support/clock.ts).
 */
export function kvStoreContract(name: string, open: () => Promise<KvStore>, { passTime }: TestTime) {
  describe(`KvStore contract: ${name}`, () => {
    let kv: KvStore;
    before(async () => {
      kv = await open();
    });
    after(async () => {
      for await (const key of kv.scan("")) await kv.del(key);
      await kv.close();
    });

    it("sets, gets and deletes strings", async () => {
      assert.equal(await kv.get("s:missing"), null);
      assert.equal(await kv.set("s:a", "one"), true);
      assert.equal(await kv.get("s:a"), "one");
      assert.deepEqual(await kv.mget(["s:a", "s:missing"]), ["one", null]);
      assert.equal(await kv.del("s:a", "s:missing"), 1);
      assert.equal(await kv.get("s:a"), null);
    });

    it("honours onlyIfAbsent and onlyIfPresent", async () => {
      assert.equal(await kv.set("nx:a", "1", { onlyIfPresent: true }), false);
      assert.equal(await kv.get("nx:a"), null);
      assert.equal(await kv.set("nx:a", "1", { onlyIfAbsent: true }), true);
      assert.equal(await kv.set("nx:a", "2", { onlyIfAbsent: true }), false);
      assert.equal(await kv.get("nx:a"), "1");
      assert.equal(await kv.set("nx:a", "3", { onlyIfPresent: true }), true);
      assert.equal(await kv.get("nx:a"), "3");
    });

    it("expires keys after their ttl and reports the time left", async () => {
      await kv.set("ttl:a", "x", { ttlMs: 60 });
      const left = await kv.ttl("ttl:a");
      assert.ok(left > 0 && left <= 60, `ttl ${left}`);
      await kv.set("ttl:forever", "x");
      assert.equal(await kv.ttl("ttl:forever"), -1);
      assert.equal(await kv.ttl("ttl:none"), -2);
      await passTime(120);
      assert.equal(await kv.get("ttl:a"), null);
      assert.equal(await kv.ttl("ttl:a"), -2);
      assert.equal(await kv.expire("ttl:forever", 50), true);
      assert.equal(await kv.expire("ttl:none", 50), false);
      await passTime(100);
      assert.equal(await kv.get("ttl:forever"), null);
    });

    it("increments counters atomically under concurrency", async () => {
      const results = await Promise.all(Array.from({ length: 100 }, () => kv.incrBy("ctr:a", 1)));
      assert.equal(await kv.get("ctr:a"), "100");
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
      assert.equal(await kv.incrBy("ctr:a", -10), 90);
    });

    it("keeps a key's ttl across increments", async () => {
      await kv.set("ctr:ttl", "1", { ttlMs: 10_000 });
      await kv.incrBy("ctr:ttl", 1);
      const left = await kv.ttl("ctr:ttl");
      assert.ok(left > 9_000, `ttl ${left}`);
    });

    it("compare-and-set succeeds for exactly one of many racing writers", async () => {
      await kv.set("cas:a", "v0");
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => kv.compareAndSet("cas:a", "v0", `v${i + 1}`)),
      );
      assert.equal(outcomes.filter(Boolean).length, 1);
      const winner = outcomes.indexOf(true) + 1;
      assert.equal(await kv.get("cas:a"), `v${winner}`);
      // null means absent on either side
      assert.equal(await kv.compareAndSet("cas:b", null, "fresh", { ttlMs: 5_000 }), true);
      assert.equal(await kv.compareAndSet("cas:b", null, "again"), false);
      assert.ok((await kv.ttl("cas:b")) > 0);
      assert.equal(await kv.compareAndSet("cas:b", "fresh", null), true);
      assert.equal(await kv.get("cas:b"), null);
    });

    it("stores hashes field by field", async () => {
      assert.equal(await kv.hset("h:a", { name: "ada", plan: "free" }), 2);
      assert.equal(await kv.hset("h:a", { plan: "pro", seats: "3" }), 1);
      assert.equal(await kv.hget("h:a", "plan"), "pro");
      assert.equal(await kv.hget("h:a", "missing"), null);
      assert.deepEqual(await kv.hgetall("h:a"), { name: "ada", plan: "pro", seats: "3" });
      assert.equal(await kv.hincrBy("h:a", "seats", 2), 5);
      assert.equal(await kv.hincrBy("h:a", "fresh", 1), 1);
      assert.equal(await kv.hdel("h:a", "name", "missing"), 1);
      assert.deepEqual(await kv.hgetall("h:missing"), {});
    });

    it("orders sorted sets by score then member", async () => {
      assert.equal(
        await kv.zadd("z:a", [
          { member: "c", score: 2 },
          { member: "a", score: 1 },
          { member: "b", score: 2 },
          { member: "d", score: 10 },
        ]),
        4,
      );
      assert.equal(await kv.zadd("z:a", [{ member: "a", score: 5 }]), 0, "updating a score adds nothing");
      assert.equal(await kv.zscore("z:a", "a"), 5);
      assert.equal(await kv.zscore("z:a", "zz"), null);
      assert.equal(await kv.zcard("z:a"), 4);
      assert.deepEqual(
        (await kv.zrangeByScore("z:a", 2, 5)).map((m) => m.member),
        ["b", "c", "a"],
      );
      assert.deepEqual(
        await kv.zrangeByScore("z:a", Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, { offset: 1, count: 2 }),
        [
          { member: "c", score: 2 },
          { member: "a", score: 5 },
        ],
      );
      assert.deepEqual(
        (await kv.zrange("z:a", 0, -1, { reverse: true })).map((m) => m.member),
        ["d", "a", "c", "b"],
      );
      assert.deepEqual(
        (await kv.zrange("z:a", 0, 1)).map((m) => m.member),
        ["b", "c"],
      );
      assert.equal(await kv.zremRangeByScore("z:a", Number.NEGATIVE_INFINITY, 2), 2);
      assert.equal(await kv.zrem("z:a", "a", "nope"), 1);
      assert.deepEqual(await kv.zrange("z:a", 0, -1), [{ member: "d", score: 10 }]);
      assert.equal(await kv.zadd("z:frac", [{ member: "m", score: 1.5 }]), 1);
      assert.equal(await kv.zscore("z:frac", "m"), 1.5);
    });

    it("refuses an operation on a key of another type", async () => {
      await kv.set("type:s", "x");
      await assert.rejects(kv.hget("type:s", "f"), KvWrongTypeError);
      await assert.rejects(kv.zadd("type:s", [{ member: "m", score: 1 }]), KvWrongTypeError);
    });

    it("scans keys by prefix", async () => {
      await kv.set("scan:one:1", "1");
      await kv.set("scan:one:2", "2");
      await kv.hset("scan:one:h", { f: "v" });
      await kv.set("scan:two:1", "3");
      await kv.set("scan:*glob", "4");
      const found: string[] = [];
      for await (const key of kv.scan("scan:one:")) found.push(key);
      assert.deepEqual(found.sort(), ["scan:one:1", "scan:one:2", "scan:one:h"]);
      const glob: string[] = [];
      for await (const key of kv.scan("scan:*")) glob.push(key);
      assert.deepEqual(glob, ["scan:*glob"], "prefix is literal, not a pattern");
    });

    it("runs a script atomically with the store's clock", async () => {
      const script: KvScript = {
        name: "contract_take_if_below",
        lua: `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n >= tonumber(ARGV[1]) then return {0, n} end
redis.call('SET', KEYS[1], tostring(n + 1), 'PX', ARGV[2])
local t = redis.call('TIME')
return {1, n + 1, tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)}`,
        local(api, [key], [limit, ttl], nowMs) {
          const n = Number(api.get(key as string) ?? "0");
          if (n >= Number(limit)) return [0, n];
          api.set(key as string, String(n + 1), Number(ttl));
          return [1, n + 1, nowMs];
        },
      };
      const replies = await Promise.all(
        Array.from({ length: 40 }, () => kv.runScript(script, ["script:a"], [25, 10_000])),
      );
      const granted = replies.filter((r) => Array.isArray(r) && r[0] === 1);
      assert.equal(granted.length, 25);
      assert.equal(await kv.get("script:a"), "25");
      const clock = (granted[0] as number[])[2] as number;
      assert.ok(Math.abs(clock - Date.now()) < 5_000, "script saw the store's clock");
      assert.ok((await kv.ttl("script:a")) > 0);
    });

    it("returns script replies with Redis' conversions", async () => {
      const script: KvScript = {
        name: "contract_reply_shapes",
        lua: "return {1.9, 'text', false, true}",
        local: () => [1.9, "text", null, 1],
      };
      assert.deepEqual(await kv.runScript(script, [], []), [1, "text", null, 1]);
    });

    it("publishes to subscribers and stops after unsubscribe", async () => {
      const received: string[] = [];
      const unsubscribe = await kv.subscribe("chan:a", (m) => received.push(m));
      assert.equal(await kv.publish("chan:a", "hello"), 1);
      await waitFor(() => received.length === 1);
      assert.deepEqual(received, ["hello"]);
      await unsubscribe();
      assert.equal(await kv.publish("chan:a", "again"), 0);
      await sleep(30);
      assert.deepEqual(received, ["hello"]);
    });

    it("pings", async () => {
      assert.ok((await kv.ping()) >= 0);
    });
  });
}

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 2_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}
