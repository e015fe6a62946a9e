import type { KvScript, LocalScriptApi } from "../kv/kv-store.ts";

/**
 * The AI token budget's two atomic steps, on one hash per provider and model
 * (`ai_budget:{provider}:{model}`), on the store's own clock.
 *
 * Two continuously refilling buckets share the hash, each in GCRA form like
 * the rate limiter's (rate-limit/token-bucket-script.ts): one number, the
 * moment the bucket would be full again ("TAT"). `tokens` holds the token
 * bucket's, `requests` the request bucket's. A bucket holds one minute's
 * allowance and refills it over a minute, as providers meter theirs, so in
 * any span of T ms at most `limit + limit * T / 60000` is spent.
 *
 * Reserving charges both buckets at once, and only when both can pay now;
 * otherwise nothing is charged and the reply names how long to wait. A
 * request larger than the whole token bucket is let through when the bucket
 * is full and charged in full, which leaves the bucket in debt: it goes
 * alone, and every later request waits until the debt has refilled.
 *
 * The waiting line. Without one, a large request could wait forever while
 * small ones take each token as it refills. So a refused request enters the
 * line: a field `w:{id}` = `{since}:{need}:{deadline}`, where `since` is when
 * it was first refused (store time, passed back on every try, so a request
 * keeps its place), `need` the tokens it needs at hand (its estimate, at
 * most a full bucket), and `deadline` when it must have tried again or lose
 * its place (its wait plus a grace: its process may be gone). The head of
 * the line is the live waiter refused first. Any other request goes only if
 * the buckets can pay for it and for the head together now; otherwise it
 * waits until the head can go (until the head's deadline once that moment
 * has passed), and tries again. The head goes when the buckets can pay for
 * it alone, and leaves the line. The line only ever refuses more, so the
 * buckets' bound holds whatever happens to it; it holds as many entries as
 * requests wait at once, across all processes (each process's concurrency).
 *
 * Times are stored with three decimals: per-token intervals are fractions
 * of a millisecond (60000 / 200000 = 0.3 ms). The hash expires once both
 * buckets would be full and no waiter is left.
 */

const STORE_NOW_LUA = `
local function store_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * Reads the hash: the two TATs (no earlier than now), the head of the line
 * (live waiters only; expired ones are removed), whether `id` waits, and the
 * latest deadline of those left.
 */
const READ_LUA = `
local function read_budget(key, now, id)
  local all = redis.call('HGETALL', key)
  local b = { tok = now, req = now, head = nil, mine = false, last = 0 }
  local expired = {}
  for i = 1, #all, 2 do
    local field, value = all[i], all[i + 1]
    if field == 'tokens' then
      b.tok = math.max(tonumber(value) or now, now)
    elseif field == 'requests' then
      b.req = math.max(tonumber(value) or now, now)
    elseif string.sub(field, 1, 2) == 'w:' then
      local since, need, deadline = string.match(value, '^([^:]+):([^:]+):([^:]+)$')
      since, need, deadline = tonumber(since), tonumber(need), tonumber(deadline)
      local who = string.sub(field, 3)
      if deadline == nil or deadline <= now then
        table.insert(expired, field)
      else
        if who == id then b.mine = true end
        b.last = math.max(b.last, deadline)
        if b.head == nil or since < b.head.since or (since == b.head.since and who < b.head.id) then
          b.head = { id = who, since = since, need = need, deadline = deadline }
        end
      end
    end
  end
  if #expired > 0 then redis.call('HDEL', key, unpack(expired)) end
  return b
end
local function keep_until(key, now, last)
  if last > now then
    redis.call('PEXPIRE', key, math.ceil(last - now) + 1000)
  else
    redis.call('DEL', key)
  end
end
`;

/**
 * KEYS[1] the budget hash. ARGV: token capacity (0: no token limit), ms per
 * token, request capacity (0: no request limit), ms per request, the tokens
 * to charge, the requester's id, the grace in ms a waiter has to come back,
 * and when the requester was first refused ("" on its first try). Reply:
 * {1, 0, now} when charged; {0, ms to wait, now} when not (nothing charged).
 */
export const budgetReserveScript: KvScript = {
  name: "ai_budget_reserve",
  lua: `${STORE_NOW_LUA}${READ_LUA}
local key = KEYS[1]
local tok_cap, per_tok = tonumber(ARGV[1]), tonumber(ARGV[2])
local req_cap, per_req = tonumber(ARGV[3]), tonumber(ARGV[4])
local cost, id, grace = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local now = store_now()
local since = tonumber(ARGV[8]) or now
local b = read_budget(key, now, id)
local need = math.min(cost, tok_cap)
-- when the buckets could pay for this request alone, and for it and the head together
local start, with_head = now, now
if tok_cap > 0 then start = math.max(start, b.tok + (need - tok_cap) * per_tok) end
if req_cap > 0 then start = math.max(start, b.req + (1 - req_cap) * per_req) end
local head = b.head
if head ~= nil and head.id == id then head = nil end
local head_start = now
if head ~= nil then
  if tok_cap > 0 then
    head_start = math.max(head_start, b.tok + (head.need - tok_cap) * per_tok)
    with_head = math.max(with_head, b.tok + (cost + head.need - tok_cap) * per_tok)
  end
  if req_cap > 0 then
    head_start = math.max(head_start, b.req + (1 - req_cap) * per_req)
    with_head = math.max(with_head, b.req + (2 - req_cap) * per_req)
  end
end
if start <= now and with_head <= now then
  if tok_cap > 0 then
    b.tok = b.tok + cost * per_tok
    redis.call('HSET', key, 'tokens', string.format('%.3f', b.tok))
  end
  if req_cap > 0 then
    b.req = b.req + per_req
    redis.call('HSET', key, 'requests', string.format('%.3f', b.req))
  end
  if b.mine then redis.call('HDEL', key, 'w:' .. id) end
  keep_until(key, now, math.max(b.tok, b.req, b.last))
  return {1, 0, now}
end
-- waiting: until this request could go alone, and not before the head can
local wake = start
if head ~= nil then
  if head_start > now then wake = math.max(wake, head_start) else wake = math.max(wake, head.deadline) end
end
local wait = math.ceil(wake - now)
local deadline = now + wait + grace
redis.call('HSET', key, 'w:' .. id, tostring(since) .. ':' .. tostring(need) .. ':' .. tostring(deadline))
keep_until(key, now, math.max(b.tok, b.req, b.last, deadline))
return {0, wait, now}`,
  local(api, [key], [tokCapArg, perTokArg, reqCapArg, perReqArg, costArg, idArg, graceArg, sinceArg], now) {
    const k = key as string;
    const [tokCap, perTok, reqCap, perReq, cost, grace] = [
      tokCapArg,
      perTokArg,
      reqCapArg,
      perReqArg,
      costArg,
      graceArg,
    ].map(Number) as [number, number, number, number, number, number];
    const id = idArg as string;
    const since = sinceArg ? Number(sinceArg) : now;
    const b = readBudget(api, k, now, id);
    const need = Math.min(cost, tokCap);
    let start = now;
    let withHead = now;
    if (tokCap > 0) start = Math.max(start, b.tok + (need - tokCap) * perTok);
    if (reqCap > 0) start = Math.max(start, b.req + (1 - reqCap) * perReq);
    const head = b.head && b.head.id !== id ? b.head : null;
    let headStart = now;
    if (head) {
      if (tokCap > 0) {
        headStart = Math.max(headStart, b.tok + (head.need - tokCap) * perTok);
        withHead = Math.max(withHead, b.tok + (cost + head.need - tokCap) * perTok);
      }
      if (reqCap > 0) {
        headStart = Math.max(headStart, b.req + (1 - reqCap) * perReq);
        withHead = Math.max(withHead, b.req + (2 - reqCap) * perReq);
      }
    }
    if (start <= now && withHead <= now) {
      if (tokCap > 0) {
        b.tok += cost * perTok;
        api.hset(k, { tokens: b.tok.toFixed(3) });
      }
      if (reqCap > 0) {
        b.req += perReq;
        api.hset(k, { requests: b.req.toFixed(3) });
      }
      if (b.mine) api.hdel(k, [`w:${id}`]);
      keepUntil(api, k, now, Math.max(b.tok, b.req, b.last));
      return [1, 0, now];
    }
    let wake = start;
    if (head) wake = Math.max(wake, headStart > now ? headStart : head.deadline);
    const wait = Math.ceil(wake - now);
    const deadline = now + wait + grace;
    api.hset(k, { [`w:${id}`]: `${since}:${need}:${deadline}` });
    keepUntil(api, k, now, Math.max(b.tok, b.req, b.last, deadline));
    return [0, wait, now];
  },
};

/**
 * KEYS[1] the budget hash. ARGV: ms per token (0: no token limit), tokens to
 * add to the charge (negative: a refund), ms per request (0: no request
 * limit), requests to add (negative: a refund), and the id to take out of
 * the waiting line ("" for none). A refund never fills a bucket past full.
 * Reply: 1.
 */
export const budgetAdjustScript: KvScript = {
  name: "ai_budget_adjust",
  lua: `${STORE_NOW_LUA}${READ_LUA}
local key = KEYS[1]
local per_tok, tok_delta = tonumber(ARGV[1]), tonumber(ARGV[2])
local per_req, req_delta = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = store_now()
local b = read_budget(key, now, ARGV[5])
if per_tok > 0 and tok_delta ~= 0 then
  b.tok = math.max(b.tok + tok_delta * per_tok, now)
  redis.call('HSET', key, 'tokens', string.format('%.3f', b.tok))
end
if per_req > 0 and req_delta ~= 0 then
  b.req = math.max(b.req + req_delta * per_req, now)
  redis.call('HSET', key, 'requests', string.format('%.3f', b.req))
end
-- The latest deadline may have been the leaver's: the hash then lives a little longer, harmlessly.
if b.mine then redis.call('HDEL', key, 'w:' .. ARGV[5]) end
keep_until(key, now, math.max(b.tok, b.req, b.last))
return 1`,
  local(api, [key], [perTok, tokDelta, perReq, reqDelta, leaving], now) {
    const k = key as string;
    const b = readBudget(api, k, now, leaving ?? "");
    if (Number(perTok) > 0 && Number(tokDelta) !== 0) {
      b.tok = Math.max(b.tok + Number(tokDelta) * Number(perTok), now);
      api.hset(k, { tokens: b.tok.toFixed(3) });
    }
    if (Number(perReq) > 0 && Number(reqDelta) !== 0) {
      b.req = Math.max(b.req + Number(reqDelta) * Number(perReq), now);
      api.hset(k, { requests: b.req.toFixed(3) });
    }
    if (b.mine) api.hdel(k, [`w:${leaving}`]);
    keepUntil(api, k, now, Math.max(b.tok, b.req, b.last));
    return 1;
  },
};

interface Waiter {
  id: string;
  since: number;
  need: number;
  deadline: number;
}

/** The in-process twin of READ_LUA's read_budget. */
function readBudget(api: LocalScriptApi, key: string, now: number, id: string) {
  const b = { tok: now, req: now, head: null as Waiter | null, mine: false, last: 0 };
  const expired: string[] = [];
  for (const [field, value] of Object.entries(api.hgetall(key))) {
    if (field === "tokens") b.tok = Math.max(numberOr(value, now), now);
    else if (field === "requests") b.req = Math.max(numberOr(value, now), now);
    else if (field.startsWith("w:")) {
      const match = /^([^:]+):([^:]+):([^:]+)$/.exec(value);
      const [since, need, deadline] = match
        ? [Number(match[1]), Number(match[2]), Number(match[3])]
        : [0, 0, Number.NaN];
      const who = field.slice(2);
      if (Number.isNaN(deadline) || deadline <= now) {
        expired.push(field);
        continue;
      }
      if (who === id) b.mine = true;
      b.last = Math.max(b.last, deadline);
      const head = b.head;
      if (!head || since < head.since || (since === head.since && who < head.id)) {
        b.head = { id: who, since, need, deadline };
      }
    }
  }
  if (expired.length > 0) api.hdel(key, expired);
  return b;
}

function keepUntil(api: LocalScriptApi, key: string, now: number, last: number) {
  if (last > now) api.pexpire(key, Math.ceil(last - now) + 1000);
  else api.del(key);
}

function numberOr(value: string, fallback: number): number {
  const n = Number(value);
  return Number.isNaN(n) ? fallback : n;
}
