import { randomUUID } from "node:crypto";
import type { KvScript, KvStore, LocalScriptApi } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";

/**
 * Generations: when an in-process copy of a database row may be served, as
 * the key-value store (shared by every process) says, so a cache in one
 * process stays exact under writes made in another.
 *
 * Each cached thing (one document, say) has a hash `generation:{name}:{id}`:
 * field `g` is its generation, a number drawn from one store-wide sequence;
 * a field `w:{token}` is a change under way, holding the store-clock moment
 * it stops counting. A reader learns the current generation in a round trip
 * it makes anyway (the admission script reads it: `GENERATION_LUA`) and
 * serves its copy only when the copy was loaded at that same generation;
 * while any change is under way it gets 0 and reads the database.
 *
 * A writer brackets its write: `begin` before the write commits (it adds its
 * mark and draws a new generation), `end` once it has committed or rolled
 * back (it removes the mark and draws another). Why this is exact:
 *
 * - A copy is stored under generation G only by a load that began after an
 *   admission returned G with no change under way, so it saw every write
 *   whose `end` ran before that admission.
 * - Every `begin` and `end` draws a value larger than any drawn before, and a
 *   key only ever takes freshly drawn values, so once a write's `end` has
 *   run no key holds a generation any copy loaded before it was stored
 *   under. A writer answers its client only after `end`, so no read that
 *   follows the answer, in any process, serves a copy from before the write.
 * - A copy loaded while the write was under way (before its commit) would be
 *   stored under the generation `begin` drew, but readers get 0 while the
 *   mark counts, and 0 is never a copy's generation.
 *
 * Failures: a `begin` that cannot reach the store throws, and the write must
 * not happen (its caller answers 503). An `end` that cannot reach the store
 * leaves the mark, so readers keep going to the database until it stops
 * counting (MARK_MS); from then on they use `begin`'s generation, which no
 * copy loaded before the commit holds. Only a write still uncommitted after
 * MARK_MS whose `end` also fails could leave a stale copy, and a cache's own
 * entry lifetime bounds that. A key that expired, or a store that lost its
 * data, is answered with a freshly drawn generation: every copy misses once.
 * The sequence starts from the store's clock (microseconds' worth of
 * milliseconds) when it is missing, so values stay larger than any drawn
 * before a store that lost its data.
 */

/** How long a change's mark keeps readers on the database if its `end` never comes. */
export const MARK_MS = 60_000;
/** How long an untouched generation is kept; afterwards the next reader draws a fresh one (one miss). */
export const IDLE_MS = 3_600_000;
export const GENERATION_SEQUENCE_KEY = "generation:seq";
/** Keys one begin or end script marks at most; more are marked in several calls. */
const KEYS_PER_SCRIPT = 500;

export function generationKey(name: string, id: string): string {
  return `generation:${name}:${id}`;
}

/**
 * Lua helpers for scripts that read or draw generations. `draw` returns a new
 * value of the sequence; `current_generation` returns a key's generation, 0
 * while a change is under way, and draws one for a key that has none.
 * Numbers are written with %d: Lua's own conversion keeps 14 digits.
 */
export const GENERATION_LUA = `
local function draw(seq, now)
  if redis.call('EXISTS', seq) == 0 then redis.call('SET', seq, string.format('%d', now * 1000)) end
  return redis.call('INCR', seq)
end
local function current_generation(key, seq, now, idle)
  local fields = redis.call('HGETALL', key)
  local g = nil
  for i = 1, #fields, 2 do
    if fields[i] == 'g' then
      g = tonumber(fields[i + 1])
    elseif tonumber(fields[i + 1]) > now then
      return 0
    end
  end
  if g == nil then
    g = draw(seq, now)
    redis.call('HSET', key, 'g', string.format('%d', g))
    redis.call('PEXPIRE', key, idle)
  end
  return g
end
`;

/** The in-process twin of GENERATION_LUA's `draw`. */
function drawLocal(api: LocalScriptApi, seq: string, now: number): number {
  const stored = api.get(seq);
  const next = (stored === null ? now * 1000 : Number(stored)) + 1;
  api.set(seq, String(next));
  return next;
}

/** The in-process twin of GENERATION_LUA's `current_generation`. */
export function currentGenerationLocal(
  api: LocalScriptApi,
  key: string,
  seq: string,
  now: number,
  idle: number,
): number {
  let g: number | null = null;
  for (const [field, value] of Object.entries(api.hgetall(key))) {
    if (field === "g") g = Number(value);
    else if (Number(value) > now) return 0;
  }
  if (g === null) {
    g = drawLocal(api, seq, now);
    api.hset(key, { g: String(g) });
    api.pexpire(key, idle);
  }
  return g;
}

const STORE_NOW_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * KEYS: the generation keys, then the sequence. ARGV: the change's token,
 * MARK_MS, IDLE_MS. Adds the mark, draws a new generation, and drops marks
 * that no longer count (left by an `end` that never came). Reply: 1.
 */
export const beginChangeScript: KvScript = {
  name: "generation_begin",
  lua: `${GENERATION_LUA}${STORE_NOW_LUA}
local seq = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local fields = redis.call('HGETALL', KEYS[i])
  for j = 1, #fields, 2 do
    if fields[j] ~= 'g' and tonumber(fields[j + 1]) <= now then redis.call('HDEL', KEYS[i], fields[j]) end
  end
  redis.call('HSET', KEYS[i], 'g', string.format('%d', draw(seq, now)),
    'w:' .. ARGV[1], string.format('%d', now + tonumber(ARGV[2])))
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[3]))
end
return 1`,
  local(api, keys, [token, markMs, idleMs], now) {
    const seq = keys[keys.length - 1] as string;
    for (const key of keys.slice(0, -1)) {
      const stale = Object.entries(api.hgetall(key)).filter(([f, v]) => f !== "g" && Number(v) <= now);
      api.hdel(
        key,
        stale.map(([f]) => f),
      );
      api.hset(key, { g: String(drawLocal(api, seq, now)), [`w:${token}`]: String(now + Number(markMs)) });
      api.pexpire(key, Number(idleMs));
    }
    return 1;
  },
};

/** KEYS: the generation keys, then the sequence. ARGV: the change's token, IDLE_MS. Removes the mark and draws a new generation. Reply: 1. */
export const endChangeScript: KvScript = {
  name: "generation_end",
  lua: `${GENERATION_LUA}${STORE_NOW_LUA}
local seq = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  redis.call('HDEL', KEYS[i], 'w:' .. ARGV[1])
  redis.call('HSET', KEYS[i], 'g', string.format('%d', draw(seq, now)))
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2]))
end
return 1`,
  local(api, keys, [token, idleMs], now) {
    const seq = keys[keys.length - 1] as string;
    for (const key of keys.slice(0, -1)) {
      api.hdel(key, [`w:${token}`]);
      api.hset(key, { g: String(drawLocal(api, seq, now)) });
      api.pexpire(key, Number(idleMs));
    }
    return 1;
  },
};

/** A change under way; `end` is safe to call more than once and never throws. */
export interface Change {
  end(): Promise<void>;
}

/** Marks changes on the key-value store, for caches validated by generation. */
export class Generations {
  readonly #markMs: number;

  constructor(
    private readonly kv: KvStore,
    private readonly logger: Logger,
    options: { markMs?: number } = {},
  ) {
    this.#markMs = options.markMs ?? MARK_MS;
  }

  /**
   * Call before the write commits (before it starts, or inside its
   * transaction); throws KvUnavailableError when the store cannot take the
   * mark, and then the write must not go ahead. Call `end` once the write
   * has committed or rolled back, and before answering the client.
   */
  async begin(keys: readonly string[]): Promise<Change> {
    if (keys.length === 0) return { end: async () => {} };
    const token = randomUUID();
    // A bulk write (maintenance archiving a backlog) is marked a slice at a
    // time, so no one script holds Redis for long.
    const slices: string[][] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_SCRIPT) {
      slices.push([...keys.slice(i, i + KEYS_PER_SCRIPT), GENERATION_SEQUENCE_KEY]);
    }
    for (const slice of slices) await this.kv.runScript(beginChangeScript, slice, [token, this.#markMs, IDLE_MS]);
    let ended = false;
    return {
      end: async () => {
        if (ended) return;
        ended = true;
        try {
          for (const slice of slices) await this.kv.runScript(endChangeScript, slice, [token, IDLE_MS]);
        } catch (error) {
          // The mark stays: readers use the database until it stops counting (see above).
          this.logger.error(
            { err: error, keys: keys.length },
            "could not end a change's mark; cached copies are bypassed until it lapses",
          );
        }
      },
    };
  }
}
