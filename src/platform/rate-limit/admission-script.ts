import type { KvScript } from "../kv/kv-store.ts";
import { TAKE_LUA, type TakeReply, takeLocal } from "./token-bucket-script.ts";

/**
 * A request's admission in one round trip: the markers that must be absent
 * (an ended session's `auth:revoked:{sid}`), then the buckets it is charged
 * on, in order, stopping at the first that refuses (an anonymous AI request
 * pays its session's bucket, then its client IP's).
 *
 * KEYS: the markers, then the buckets. ARGV[1]: how many markers; then per
 * bucket: capacity, milliseconds per token, cost.
 * Reply: {blocked (1 when a marker exists), which bucket decided (0-based),
 * allowed, tokens left, wait ms, full ms}: the first bucket that refused, or
 * else the first bucket. A blocked request is charged nothing. With no
 * buckets the decision is {0, allowed 1, 0, 0, 0}.
 *
 * On Redis Cluster every key of one call must share a hash slot; Strata runs
 * this on a single Redis (or its replicas' primary).
 */
export const admissionScript: KvScript = {
  name: "admission_gcra",
  lua: `${TAKE_LUA}
local markers = tonumber(ARGV[1])
for i = 1, markers do
  if redis.call('EXISTS', KEYS[i]) == 1 then return {1, 0, 0, 0, 0, 0} end
end
local now = store_now()
local first = nil
for i = markers + 1, #KEYS do
  local a = 2 + (i - markers - 1) * 3
  local reply = take(KEYS[i], tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), now)
  if reply[1] == 0 then return {0, i - markers - 1, reply[1], reply[2], reply[3], reply[4]} end
  if first == nil then first = reply end
end
if first == nil then return {0, 0, 1, 0, 0, 0} end
return {0, 0, first[1], first[2], first[3], first[4]}`,
  local(api, keys, args, now) {
    const markers = Number(args[0]);
    for (let i = 0; i < markers; i++) if (api.get(keys[i] as string) !== null) return [1, 0, 0, 0, 0, 0];
    let first: TakeReply | null = null;
    for (let i = markers; i < keys.length; i++) {
      const a = 1 + (i - markers) * 3;
      const reply = takeLocal(api, keys[i] as string, Number(args[a]), Number(args[a + 1]), Number(args[a + 2]), now);
      if (reply[0] === 0) return [0, i - markers, ...reply];
      first ??= reply;
    }
    return first ? [0, 0, ...first] : [0, 0, 1, 0, 0, 0];
  },
};
