import type { KvScript } from "../kv/kv-store.ts";

/**
 * One token-bucket decision, atomically, on the store's own clock.
 *
 * KEYS[1] the bucket (a hash: tokens, ts). ARGV: capacity, milliseconds per
 * token (the refill rate), cost. Reply: {allowed (1|0), tokens left (floor),
 * ms until a request of this cost would pass (0 if allowed), ms until full}.
 *
 * The bucket refills continuously, so a client is never stuck waiting for a
 * window boundary; an idle bucket expires once it would be full again, so
 * the store holds only buckets in use. Fractional token counts are stored as
 * strings because Redis truncates Lua numbers in replies.
 */
export const tokenBucketScript: KvScript = {
  name: "token_bucket",
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
  local(api, [key], [capacityArg, perTokenArg, costArg], now) {
    const k = key as string;
    const capacity = Number(capacityArg);
    const perToken = Number(perTokenArg);
    const cost = Number(costArg);
    const state = api.hgetall(k);
    let tokens = state.tokens === undefined ? capacity : Number(state.tokens);
    const ts = state.ts === undefined ? now : Number(state.ts);
    tokens = Math.min(capacity, tokens + Math.max(0, now - ts) / perToken);
    let allowed = 0;
    let wait = 0;
    if (tokens >= cost) {
      tokens -= cost;
      allowed = 1;
    } else {
      wait = Math.ceil((cost - tokens) * perToken);
    }
    api.hset(k, { tokens: String(tokens), ts: String(now) });
    const full = Math.ceil((capacity - tokens) * perToken);
    api.pexpire(k, full + 1000);
    return [allowed, Math.floor(tokens), wait, full];
  },
};
