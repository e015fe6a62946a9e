/**
 * Rate-limit decisions per second and latency on the Redis server, Strata's
 * token bucket (one Lua script per decision, src/platform/rate-limit) beside
 * rate-limiter-flexible's RateLimiterRedis on the same Redis, in the same run,
 * with the same concurrency and key spread.
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
import { RedisKvStore } from "../src/platform/kv/redis-kv-store.ts";
import { RateLimiter } from "../src/platform/rate-limit/rate-limiter.ts";

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

  const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
  await new Promise((resolve) => redis.once("ready", resolve));
  const flexible = new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}rlflx`, points: 50, duration: 60 });
  const flexibleDecide = async (subject: string) => {
    try {
      await flexible.consume(subject);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  };

  try {
    await measure(strataDecide, 2_000, "warm");
    await measure(flexibleDecide, 2_000, "warm");
    const rounds: { strata: Result; flexible: Result }[] = [];
    for (let round = 0; round < 2; round++) {
      rounds.push({
        strata: await measure(strataDecide, DECISIONS, `r${round}`),
        flexible: await measure(flexibleDecide, DECISIONS, `r${round}`),
      });
    }
    const best = (pick: (r: (typeof rounds)[number]) => Result) =>
      rounds.map(pick).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const rows = [
      ["strata token bucket (Lua, server clock)", best((r) => r.strata)],
      ["rate-limiter-flexible RateLimiterRedis", best((r) => r.flexible)],
    ] as const;
    console.log(
      `${DECISIONS} decisions, ${CONCURRENCY} in flight, ${SUBJECTS} subjects, bucket 50/min, Redis at ${REDIS_URL}`,
    );
    console.log(
      `${"".padEnd(42)}${"decisions/s".padStart(12)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"allowed".padStart(9)}`,
    );
    for (const [name, r] of rows) {
      console.log(
        `${name.padEnd(42)}${r.perSecond.toFixed(0).padStart(12)}${r.p50.toFixed(3).padStart(9)}${r.p99.toFixed(3).padStart(9)}${String(r.allowed).padStart(9)}`,
      );
    }
  } finally {
    for await (const key of kv.scan("")) await kv.del(key);
    await kv.close();
    redis.disconnect();
  }
}
