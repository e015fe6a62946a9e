import type { KvScript } from "../../platform/kv/kv-store.ts";

/**
 * Contexts taken by a worker, in one round trip: each context's
 * worker_lock is set to the worker, with the lock's TTL, whoever held it
 * before (the caller holds the context's job, so a lock still naming
 * another worker names one whose claim was lost). Returns, per lock, the
 * worker it was taken over from ("" when it was free or already this
 * worker's).
 * KEYS: the worker_locks. ARGV: worker id, TTL (ms).
 */
export const contextsHeldScript: KvScript = {
  name: "generation_contexts_held",
  lua: `
local from = {}
for i, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  if holder and holder ~= ARGV[1] then from[i] = holder else from[i] = '' end
end
return from`,
  local(api, locks, [workerId, ttl]) {
    return locks.map((lock) => {
      const holder = api.get(lock);
      api.set(lock, workerId as string, Number(ttl));
      return holder !== null && holder !== workerId ? holder : "";
    });
  },
};

/**
 * Contexts' ends in the KV store, in one round trip: each context's
 * worker_lock goes if this worker still holds it, and each completed
 * context's duration joins its pipeline's pipeline_stats (entries older
 * than a day dropped, the set given its day's TTL). A context that did not
 * complete has "" for its member, and only its lock goes.
 * KEYS: per context, its worker_lock then its pipeline_stats (its lock
 * again when it has none). ARGV: worker id, score (ms), oldest score kept,
 * TTL (ms), then per context its member.
 */
export const contextsDoneScript: KvScript = {
  name: "generation_contexts_done",
  lua: `
local trimmed = {}
for i = 1, #KEYS, 2 do
  local lock, stats, member = KEYS[i], KEYS[i + 1], ARGV[4 + (i + 1) / 2]
  if redis.call('GET', lock) == ARGV[1] then redis.call('DEL', lock) end
  if member ~= '' then
    redis.call('ZADD', stats, ARGV[2], member)
    if not trimmed[stats] then
      redis.call('ZREMRANGEBYSCORE', stats, '-inf', '(' .. ARGV[3])
      redis.call('PEXPIRE', stats, ARGV[4])
      trimmed[stats] = true
    end
  end
end
return 1`,
  local(api, keys, [workerId, score, oldest, ttl, ...members]) {
    const trimmed = new Set<string>();
    members.forEach((member, i) => {
      const lock = keys[2 * i] as string;
      const stats = keys[2 * i + 1] as string;
      if (api.get(lock) === workerId) api.del(lock);
      if (!member) return;
      api.zadd(stats, [{ member, score: Number(score) }]);
      if (trimmed.has(stats)) return;
      // Scores are whole milliseconds: below `oldest` is at most oldest - 1, as the Lua's exclusive bound.
      api.zremRangeByScore(stats, Number.NEGATIVE_INFINITY, Number(oldest) - 1);
      api.pexpire(stats, Number(ttl));
      trimmed.add(stats);
    });
    return 1;
  },
};
