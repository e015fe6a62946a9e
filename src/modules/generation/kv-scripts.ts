import type { KvScript } from "../../platform/kv/kv-store.ts";

/**
 * A context's end in the KV store, in one round trip: drops its
 * worker_lock if this worker still holds it, and adds its duration to the
 * pipeline's pipeline_stats (dropping entries older than a day, and giving
 * the set its day's TTL). Without a duration (the context did not
 * complete) only the lock goes.
 * KEYS: worker_lock, pipeline_stats. ARGV: worker id, member ("" for none),
 * score (ms), oldest score kept, TTL (ms).
 */
export const contextDoneScript: KvScript = {
  name: "generation_context_done",
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 1`,
  local(api, [lock, stats], [workerId, member, score, oldest, ttl]) {
    if (api.get(lock as string) === workerId) api.del(lock as string);
    if (member) {
      api.zadd(stats as string, [{ member, score: Number(score) }]);
      // Scores are whole milliseconds: below `oldest` is at most oldest - 1, as the Lua's exclusive bound.
      api.zremRangeByScore(stats as string, Number.NEGATIVE_INFINITY, Number(oldest) - 1);
      api.pexpire(stats as string, Number(ttl));
    }
    return 1;
  },
};
