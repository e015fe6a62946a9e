import type { KvScript } from "../../platform/kv/kv-store.ts";

/**
 * A worker's context locks in one round trip: the contexts it has begun
 * (`held`) and those that have ended (`released`) since its last call.
 *
 * - held: each context's worker_lock is set to the worker, with the lock's
 *   TTL, whoever held it before (the caller holds the context's job, so a
 *   lock still naming another worker names one whose claim was lost).
 * - released: each context's worker_lock goes if this worker still holds
 *   it, and a completed context's duration joins its pipeline's
 *   pipeline_stats (entries older than a day dropped, the set given its
 *   day's TTL); a context that did not complete has "" for its member and
 *   only its lock goes.
 *
 * Returns, per held lock, the worker it was taken over from ("" when it was
 * free or already this worker's).
 * KEYS: the held contexts' worker_locks, then per released context its
 * worker_lock and its pipeline_stats (its lock again when it has none).
 * ARGV: worker id, lock TTL (ms), number of held contexts, score (ms),
 * oldest score kept, stats TTL (ms), then per released context its member.
 */
export const contextLocksScript: KvScript = {
  name: "generation_context_locks",
  lua: `
local worker, held = ARGV[1], tonumber(ARGV[3])
local from = {}
for i = 1, held do
  local holder = redis.call('GET', KEYS[i])
  redis.call('SET', KEYS[i], worker, 'PX', ARGV[2])
  if holder and holder ~= worker then from[i] = holder else from[i] = '' end
end
local trimmed = {}
for i = held + 1, #KEYS, 2 do
  local lock, stats, member = KEYS[i], KEYS[i + 1], ARGV[6 + (i - held + 1) / 2]
  if redis.call('GET', lock) == worker then redis.call('DEL', lock) end
  if member ~= '' then
    redis.call('ZADD', stats, ARGV[4], member)
    if not trimmed[stats] then
      redis.call('ZREMRANGEBYSCORE', stats, '-inf', '(' .. ARGV[5])
      redis.call('PEXPIRE', stats, ARGV[6])
      trimmed[stats] = true
    end
  end
end
return from`,
  local(api, keys, [worker, lockTtl, heldCount, score, oldest, statsTtl, ...members]) {
    const held = Number(heldCount);
    const from = keys.slice(0, held).map((lock) => {
      const holder = api.get(lock);
      api.set(lock, worker as string, Number(lockTtl));
      return holder !== null && holder !== worker ? holder : "";
    });
    const trimmed = new Set<string>();
    members.forEach((member, i) => {
      const lock = keys[held + 2 * i] as string;
      const stats = keys[held + 2 * i + 1] as string;
      if (api.get(lock) === worker) api.del(lock);
      if (!member) return;
      api.zadd(stats, [{ member, score: Number(score) }]);
      if (trimmed.has(stats)) return;
      // Scores are whole milliseconds: below `oldest` is at most oldest - 1, as the Lua's exclusive bound.
      api.zremRangeByScore(stats, Number.NEGATIVE_INFINITY, Number(oldest) - 1);
      api.pexpire(stats, Number(statsTtl));
      trimmed.add(stats);
    });
    return from;
  },
};
