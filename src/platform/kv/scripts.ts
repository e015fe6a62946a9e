import type { KvScript } from "./kv-store.ts";

/**
 * Scripts the platform itself needs. Each has a Lua body (Redis) and a local
 * body (in-process store) that must agree; the contract suite checks both.
 */

/** KEYS[1]; ARGV: expected ("" + ARGV[3]=="1" means absent), next, ARGV[4]=="1" means delete, ttlMs. */
export const compareAndSetScript: KvScript = {
  name: "compare_and_set",
  lua: `
local current = redis.call('GET', KEYS[1])
local expectedAbsent = ARGV[3] == '1'
if expectedAbsent then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[5]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[5])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1`,
  local(api, [key], [expected, next, expectedAbsent, deleteNext, ttl]) {
    const k = key as string;
    const current = api.get(k);
    if (expectedAbsent === "1" ? current !== null : current !== expected) return 0;
    if (deleteNext === "1") api.del(k);
    else api.set(k, next as string, Number(ttl) > 0 ? Number(ttl) : undefined);
    return 1;
  },
};

/** The arguments compareAndSetScript expects, from compareAndSet's parameters. */
export function compareAndSetArgs(expected: string | null, next: string | null, ttlMs = 0): string[] {
  return [expected ?? "", next ?? "", expected === null ? "1" : "0", next === null ? "1" : "0", String(ttlMs)];
}
