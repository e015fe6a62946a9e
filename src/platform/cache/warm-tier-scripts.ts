import type { KvScript, LocalScriptApi } from "../kv/kv-store.ts";

/**
 * The warm tier of a tiered cache (tiered-cache.ts) in the key-value store,
 * bounded in bytes: each value under `{prefix}v:{key}`, a sorted set of keys
 * by last use (`lru`), a hash of their sizes (`sizes`) and their total
 * (`bytes`). A write past the bound evicts the least recently used keys in
 * the same script, so the bound holds whichever process writes. A value
 * that expired by TTL keeps its size counted until it is evicted or read
 * (a read of a vanished value forgets it), so the tier may evict a little
 * early, never late.
 *
 * Recency is a counter (`seq`), not the clock: uses within one millisecond
 * still rank in order.
 *
 * KEYS: lru, sizes, bytes, the value key, the value keys' prefix (so the
 * script can name an evicted key's value), seq. On Redis Cluster these
 * share a hash tag, the cache's name in braces.
 */

/** Lua: forgets ARGV[1]'s size and recency (its value is gone or going). */
const FORGET_LUA = `
local size = redis.call('HGET', KEYS[2], ARGV[1])
if size then
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('DECRBY', KEYS[3], size)
end`;

/** ARGV: member. Reply: the value, or nil (a vanished value is forgotten). */
export const warmGetScript: KvScript = {
  name: "tiered_cache_get",
  lua: `
local value = redis.call('GET', KEYS[4])
if value then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[6]), ARGV[1])
  return value
end
${FORGET_LUA}
return false`,
  local(api, keys, [member]) {
    const [lru, sizes, bytes, valueKey, , seq] = keys as [string, string, string, string, string, string];
    const value = api.get(valueKey);
    if (value !== null) {
      api.zadd(lru, [{ member: member as string, score: next(api, seq) }]);
      return value;
    }
    forget(api, lru, sizes, bytes, member as string);
    return null;
  },
};

/** ARGV: member, value, ttl (ms), bound (bytes). Reply: how many keys were evicted. */
export const warmSetScript: KvScript = {
  name: "tiered_cache_set",
  lua: `
local old = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local size = string.len(ARGV[2])
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], size)
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[6]), ARGV[1])
local total = redis.call('INCRBY', KEYS[3], size - old)
local bound = tonumber(ARGV[4])
local evicted = 0
while total > bound do
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not oldest then break end
  local gone = tonumber(redis.call('HGET', KEYS[2], oldest) or '0')
  redis.call('DEL', KEYS[5] .. oldest)
  redis.call('HDEL', KEYS[2], oldest)
  redis.call('ZREM', KEYS[1], oldest)
  total = redis.call('DECRBY', KEYS[3], gone)
  evicted = evicted + 1
end
return evicted`,
  local(api, keys, [member, value, ttl, bound]) {
    const [lru, sizes, bytes, valueKey, valuePrefix, seq] = keys as [string, string, string, string, string, string];
    const m = member as string;
    const v = value as string;
    const old = Number(api.hget(sizes, m) ?? "0");
    // Lua's string.len counts bytes.
    const size = Buffer.byteLength(v);
    api.set(valueKey, v, Number(ttl));
    api.hset(sizes, { [m]: String(size) });
    api.zadd(lru, [{ member: m, score: next(api, seq) }]);
    let total = Number(api.get(bytes) ?? "0") + size - old;
    api.set(bytes, String(total));
    let evicted = 0;
    while (total > Number(bound)) {
      const oldest = api.zrange(lru, 0, 0)[0]?.member;
      if (oldest === undefined) break;
      const gone = Number(api.hget(sizes, oldest) ?? "0");
      api.del(valuePrefix + oldest);
      api.hdel(sizes, [oldest]);
      api.zrem(lru, [oldest]);
      total -= gone;
      api.set(bytes, String(total));
      evicted++;
    }
    return evicted;
  },
};

/** ARGV: member. Drops one key and its accounting. */
export const warmDeleteScript: KvScript = {
  name: "tiered_cache_delete",
  lua: `
redis.call('DEL', KEYS[4])
${FORGET_LUA}
return 1`,
  local(api, keys, [member]) {
    const [lru, sizes, bytes, valueKey] = keys as [string, string, string, string];
    api.del(valueKey);
    forget(api, lru, sizes, bytes, member as string);
    return 1;
  },
};

function forget(api: LocalScriptApi, lru: string, sizes: string, bytes: string, member: string): void {
  const size = api.hget(sizes, member);
  if (size === null) return;
  api.hdel(sizes, [member]);
  api.zrem(lru, [member]);
  api.set(bytes, String(Number(api.get(bytes) ?? "0") - Number(size)));
}

/** INCR on the local store. */
function next(api: LocalScriptApi, seq: string): number {
  const n = Number(api.get(seq) ?? "0") + 1;
  api.set(seq, String(n));
  return n;
}
