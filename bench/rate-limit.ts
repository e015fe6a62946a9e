/**
 * Rate-limit decisions per second and latency on the Redis server, Strata's
 * token bucket (one Lua script per decision, src/platform/rate-limit) beside
 * rate-limiter-flexible's RateLimiterRedis on the same Redis, in the same run,
 * with the same concurrency and key spread.
 *
 * Rows: Strata's limiter as it ships (the GCRA script, refusals remembered
 * until the moment they name); the same script with every decision a round
 * trip; the earlier hash-form script (HMGET, HSET, PEXPIRE per decision), the
 * "before" of this comparison; and rate-limiter-flexible as documented and with
 * its own in-memory block (inMemoryBlockOnConsumed), its equivalent of
 * remembering refusals.
 *
 * Each side makes BENCH_DECISIONS decisions (default 50,000) with
 * BENCH_CONCURRENCY in flight (default 64), spread over 500 subjects, so each
 * bucket of 50 sees 100 requests: half allowed, half refused, on both sides.
 * Every round uses fresh subjects. A warm-up of 2,000 decisions precedes the
 * measurements; the two sides run alternately twice and the better round of
 * each is reported.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { KvScript } from "../src/platform/kv/kv-store.ts";
import { RedisKvStore } from "../src/platform/kv/redis-kv-store.ts";
import { bucketKey, RateLimiter } from "../src/platform/rate-limit/rate-limiter.ts";
import { tokenBucketScript } from "../src/platform/rate-limit/token-bucket-script.ts";

/** The hash-form bucket Strata used before (kept here only to measure against). */
const hashBucketScript: KvScript = {
  name: "token_bucket_hash_before",
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity = tonumber(ARGV[1])
local per_token = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) / per_token)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) * per_token)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
local full = math.ceil((capacity - tokens) * per_token)
redis.call('PEXPIRE', KEYS[1], full + 1000)
return {allowed, math.floor(tokens), wait, full}`,
  local() {
    throw new Error("Redis only");
  },
};

const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const DECISIONS = Number(process.env.BENCH_DECISIONS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SUBJECTS = 500;

interface Result {
  perSecond: number;
  p50: number;
  p99: number;
  allowed: number;
}

async function measure(decide: (subject: string) => Promise<boolean>, count: number, round: string): Promise<Result> {
  const latencies = new Float64Array(count);
  let next = 0;
  let allowed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t = performance.now();
        if (await decide(`${round}:s${i % SUBJECTS}`)) allowed++;
        latencies[i] = performance.now() - t;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort();
  return {
    perSecond: count / seconds,
    p50: latencies[Math.floor(count * 0.5)] as number,
    p99: latencies[Math.floor(count * 0.99)] as number,
    allowed,
  };
}

export async function runRateLimitBench() {
  const prefix = `bench:${randomUUID()}:`;
  const kv = await RedisKvStore.connect(REDIS_URL, prefix);
  const strata = new RateLimiter(kv);
  const limit = { capacity: 50, perMinute: 50 };
  const strataDecide = async (subject: string) => (await strata.take("ai", subject, limit)).allowed;
  const scriptOnly = (script: KvScript) => async (subject: string) =>
    ((await kv.runScript(script, [bucketKey("ai", subject)], [50, 1200, 1])) as number[])[0] === 1;
  const gcraDecide = scriptOnly(tokenBucketScript);
  const hashDecide = scriptOnly(hashBucketScript);

  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
  await new Promise((resolve) => redis.once("ready", resolve));
  const flexible = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}rlflx`, points: 50, duration: 60 });
  const flexibleBlocking = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}rlflxb`,
    points: 50,
    duration: 60,
    inMemoryBlockOnConsumed: 50,
  });
  const consume = (limiter: RateLimiterRedis) => async (subject: string) => {
    try {
      await limiter.consume(subject);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  };
  const sides = [
    ["strata (GCRA, refusals remembered)", strataDecide],
    ["strata GCRA script, every decision sent", gcraDecide],
    ["strata before (hash-form script)", hashDecide],
    ["rate-limiter-flexible RateLimiterRedis", consume(flexible)],
    ["rate-limiter-flexible + inMemoryBlock", consume(flexibleBlocking)],
  ] as const;

  try {
    for (const [i, [, decide]] of sides.entries()) await measure(decide, 2_000, `warm:${i}`);
    const results: Result[][] = sides.map(() => []);
    for (let round = 0; round < 2; round++) {
      for (const [i, [, decide]] of sides.entries())
        results[i]?.push(await measure(decide, DECISIONS, `r${round}:${i}`));
    }
    const best = results.map((rs) => rs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a)));
    console.log(
      `${DECISIONS} decisions, ${CONCURRENCY} in flight, ${SUBJECTS} subjects, bucket 50/min, Redis at ${REDIS_URL}`,
    );
    console.log(
      `${"".padEnd(42)}${"decisions/s".padStart(12)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"allowed".padStart(9)}`,
    );
    for (const [i, [name]] of sides.entries()) {
      const r = best[i] as Result;
      console.log(
        `${name.padEnd(42)}${r.perSecond.toFixed(0).padStart(12)}${r.p50.toFixed(3).padStart(9)}${r.p99.toFixed(3).padStart(9)}${String(r.allowed).padStart(9)}`,
      );
    }
    const ratio = (a: number, b: number) => ((best[a] as Result).perSecond / (best[b] as Result).perSecond).toFixed(2);
    console.log(
      `strata / rate-limiter-flexible: ${ratio(0, 3)}x as shipped (goal >= 1.2x, p99 <= 2 ms); ` +
        `${ratio(0, 4)}x against its in-memory block; every decision sent: ${ratio(1, 3)}x; before: ${ratio(2, 3)}x`,
    );
  } finally {
    for await (const key of kv.scan("")) await kv.del(key);
    await kv.close();
    redis.disconnect();
  }
}
