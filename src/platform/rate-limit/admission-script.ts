import { currentGenerationLocal, GENERATION_LUA } from "../cache/generations.ts";
import type { KvScript } from "../kv/kv-store.ts";
import { TAKE_LUA, type TakeReply, takeLocal } from "./token-bucket-script.ts";

/**
 * A request's admission in one round trip: the markers that must be absent
 * (an ended session's `auth:revoked:{sid}`), then the buckets it is charged
 * on, in order, stopping at the first that refuses (an anonymous AI request
 * pays its session's bucket, then its client IP's); and, when the route asks
 * for one, the current generation of the thing it reads (cache/generations.ts),
 * so a process can tell whether its cached copy may be served without another
 * round trip.
 *
 * KEYS: the markers, then (when asked) the generation key and the generation
 * sequence, then the buckets. ARGV[1]: how many markers; ARGV[2]: 1 when a
 * generation is asked for, else 0; ARGV[3]: how long a drawn generation is
 * kept (ms); then per bucket: capacity, milliseconds per token, cost.
 * Reply: {blocked (1 when a marker exists), which bucket decided (0-based),
 * allowed, tokens left, wait ms, full ms, generation}: the first bucket that
 * refused, or else the first bucket. A blocked request is charged nothing.
 * With no buckets the decision is {0, allowed 1, 0, 0, 0}. The generation is
 * 0 when none was asked for, while a change is under way, or when refused.
 *
 * On Redis Cluster every key of one call must share a hash slot; Strata runs
 * this on a single Redis (or its replicas' primary).
 */
export const admissionScript: KvScript = {
  name: "admission_gcra",
  lua: `${TAKE_LUA}${GENERATION_LUA}
local markers = tonumber(ARGV[1])
for i = 1, markers do
  if redis.call('EXISTS', KEYS[i]) == 1 then return {1, 0, 0, 0, 0, 0, 0} end
end
local first_bucket = markers + 1
if ARGV[2] == '1' then first_bucket = markers + 3 end
local now = store_now()
local first = nil
for i = first_bucket, #KEYS do
  local a = 4 + (i - first_bucket) * 3
  local reply = take(KEYS[i], tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), now)
  if reply[1] == 0 then return {0, i - first_bucket, reply[1], reply[2], reply[3], reply[4], 0} end
  if first == nil then first = reply end
end
local generation = 0
if ARGV[2] == '1' then generation = current_generation(KEYS[markers + 1], KEYS[markers + 2], now, tonumber(ARGV[3])) end
if first == nil then return {0, 0, 1, 0, 0, 0, generation} end
return {0, 0, first[1], first[2], first[3], first[4], generation}`,
  local(api, keys, args, now) {
    const markers = Number(args[0]);
    for (let i = 0; i < markers; i++) if (api.get(keys[i] as string) !== null) return [1, 0, 0, 0, 0, 0, 0];
    const withGeneration = args[1] === "1";
    const firstBucket = withGeneration ? markers + 2 : markers;
    let first: TakeReply | null = null;
    for (let i = firstBucket; i < keys.length; i++) {
      const a = 3 + (i - firstBucket) * 3;
      const reply = takeLocal(api, keys[i] as string, Number(args[a]), Number(args[a + 1]), Number(args[a + 2]), now);
      if (reply[0] === 0) return [0, i - firstBucket, ...reply, 0];
      first ??= reply;
    }
    const generation = withGeneration
      ? currentGenerationLocal(api, keys[markers] as string, keys[markers + 1] as string, now, Number(args[2]))
      : 0;
    return first ? [0, 0, ...first, generation] : [0, 0, 1, 0, 0, 0, generation];
  },
};
