import type { KvScript, LocalScriptApi } from "../kv/kv-store.ts";

/**
 * The change feed's history in the key-value store: a sorted set of
 * changes scored by position (each member `"<position> <json>"`, so every
 * member is unique), the position counter, and which outbox rows have been
 * appended (outbox id to position), so a relay that appended but could not
 * delete its outbox rows (the database failed in between) appends nothing
 * twice. The history keeps the last `max` changes: a client further behind
 * is told to reload.
 *
 * KEYS: seq, history, relayed. ARGV: max, then per change its outbox id and
 * its JSON (without position). Reply: per change, its position, negative
 * when it had been appended before (so it is not published again).
 */
export const appendChangesScript: KvScript = {
  name: "changes_append",
  lua: `
local out = {}
for i = 2, #ARGV, 2 do
  local existing = redis.call('HGET', KEYS[3], ARGV[i])
  if existing then
    table.insert(out, -tonumber(existing))
  else
    local position = redis.call('INCR', KEYS[1])
    redis.call('ZADD', KEYS[2], position, position .. ' ' .. ARGV[i + 1])
    redis.call('HSET', KEYS[3], ARGV[i], position)
    table.insert(out, position)
  end
end
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[1])
if excess > 0 then
  local gone = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, member in ipairs(gone) do
    local change = cjson.decode(string.sub(member, string.find(member, ' ') + 1))
    redis.call('HDEL', KEYS[3], tostring(change.outboxId))
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
return out`,
  local(api, [seq, history, relayed], args) {
    const [max, ...pairs] = args as string[];
    const out: number[] = [];
    for (let i = 0; i < pairs.length; i += 2) {
      const outboxId = pairs[i] as string;
      const existing = api.hget(relayed as string, outboxId);
      if (existing !== null) {
        out.push(-Number(existing));
        continue;
      }
      const position = increment(api, seq as string);
      api.zadd(history as string, [{ member: `${position} ${pairs[i + 1]}`, score: position }]);
      api.hset(relayed as string, { [outboxId]: String(position) });
      out.push(position);
    }
    const excess = api.zcard(history as string) - Number(max);
    if (excess > 0) {
      const gone = api.zrange(history as string, 0, excess - 1).map((m) => m.member);
      for (const member of gone) {
        const change = JSON.parse(member.slice(member.indexOf(" ") + 1)) as { outboxId: string };
        api.hdel(relayed as string, [String(change.outboxId)]);
      }
      api.zrem(history as string, gone);
    }
    return out;
  },
};

function increment(api: LocalScriptApi, key: string): number {
  const next = Number(api.get(key) ?? "0") + 1;
  api.set(key, String(next));
  return next;
}
