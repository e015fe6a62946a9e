import type { KvScript, LocalScriptApi } from "../kv/kv-store.ts";

/**
 * One token-bucket decision, atomically, on the store's own clock.
 *
 * The bucket is kept in its GCRA form (the generic cell rate algorithm, an
 * exact equivalent of a continuously refilling token bucket): one number, the
 * "theoretical arrival time" (TAT), the moment the bucket would be full
 * again. Tokens left = (capacity * msPerToken - (TAT - now)) / msPerToken.
 * Taking `cost` tokens moves TAT forward by cost * msPerToken, allowed only
 * while TAT stays within capacity * msPerToken of now. One GET and (when
 * allowed) one SET with an expiry at TAT: an idle bucket disappears once it
 * would be full, and a refusal writes nothing. This is a third of the Redis
 * work of the earlier hash form (HMGET, HSET, PEXPIRE and two float
 * conversions), which is what bounded decisions per second.
 *
 * TAT is stored with three decimals: per-token intervals need not be whole
 * milliseconds (60000 / 7), and rounding them away would drift the rate.
 *
 * Reply: {allowed (1|0), tokens left (floor), ms until a request of this cost
 * would pass (0 if allowed), ms until full}.
 */

/** The Lua body of one decision, shared by every script that takes from a bucket. */
export const TAKE_LUA = `
local function take(key, capacity, per_token, cost, now)
  local window = capacity * per_token
  -- pcall: a bucket left in the earlier hash form reads as a fresh one and
  -- is overwritten by SET, instead of failing with WRONGTYPE.
  local stored = redis.pcall('GET', key)
  local tat = now
  if type(stored) == 'string' then
    tat = tonumber(stored)
    if tat == nil or tat < now then tat = now end
  end
  local next_tat = tat + cost * per_token
  local allow_at = next_tat - window
  if allow_at > now then
    return {0, math.floor((window - (tat - now)) / per_token), math.ceil(allow_at - now), math.ceil(tat - now)}
  end
  local full = math.ceil(next_tat - now)
  redis.call('SET', key, string.format('%.3f', next_tat), 'PX', full + 1000)
  return {1, math.floor((window - (next_tat - now)) / per_token), 0, full}
end
local function store_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

export type TakeReply = [allowed: number, remaining: number, waitMs: number, fullMs: number];

/** The in-process twin of TAKE_LUA's `take`; keys are already prefixed. */
export function takeLocal(
  api: LocalScriptApi,
  key: string,
  capacity: number,
  perToken: number,
  cost: number,
  now: number,
): TakeReply {
  const window = capacity * perToken;
  const stored = api.get(key);
  let tat = stored === null ? now : Number(stored);
  if (Number.isNaN(tat) || tat < now) tat = now;
  const nextTat = tat + cost * perToken;
  const allowAt = nextTat - window;
  if (allowAt > now) {
    return [0, Math.floor((window - (tat - now)) / perToken), Math.ceil(allowAt - now), Math.ceil(tat - now)];
  }
  const full = Math.ceil(nextTat - now);
  api.set(key, nextTat.toFixed(3), full + 1000);
  return [1, Math.floor((window - (nextTat - now)) / perToken), 0, full];
}

/** KEYS[1] the bucket. ARGV: capacity, milliseconds per token (the refill rate), cost. */
export const tokenBucketScript: KvScript = {
  name: "token_bucket_gcra",
  lua: `${TAKE_LUA}
return take(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), store_now())`,
  local(api, [key], [capacity, perToken, cost], now) {
    return takeLocal(api, key as string, Number(capacity), Number(perToken), Number(cost), now);
  },
};
