import type { KvScript, KvStore } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";

/**
 * A cache whose entries are key-value hashes (a seed's Redis hashes, such as
 * seed 001's `template:{id}`), read whole, filled whole and dropped whole.
 * Like the namespaced caches it is never the source of truth: a store that
 * cannot be reached makes a read a miss and a fill or a drop a logged,
 * counted no-op, so an outage slows requests but fails none.
 *
 * Unlike them it closes the fill race. A reader that loaded the database's
 * row before a write committed could otherwise store that old row after the
 * writer dropped the entry, and serve it until the TTL ran out (an hour for
 * a template). So each key counts its drops in a field of its own
 * (STAMP_FIELD), kept when the entry is dropped: a reader that misses notes
 * the count, and its fill stores only if the count is still that and no
 * entry is there. The writer drops after its write commits, so a load that
 * began before the commit either fills before the drop (which then removes
 * it) or finds the count moved and stores nothing. The count lives as long
 * as an entry would (the cache's TTL); once it lapses the key starts again
 * from no count, which no reader still holding a count can match either.
 *
 * Keys are the caller's, unprefixed (the store adds its own prefix); each
 * script touches one key, so they also run on a Redis Cluster.
 */

/** The field holding a key's drop count; no entry of a cache has a field of this name. */
export const STAMP_FIELD = "_invalidations";

/**
 * KEYS[1]; ARGV: ttlMs, the drop count the reader saw ("" for none), then
 * field, value pairs. Stores the hash only while the count is unchanged and
 * no entry is there. Reply: 1 stored, 0 not.
 */
export const fillHashScript: KvScript = {
  name: "hash_cache_fill",
  lua: `
local stamp = redis.call('HGET', KEYS[1], '${STAMP_FIELD}') or ''
if stamp ~= ARGV[2] then return 0 end
local other = redis.call('HLEN', KEYS[1]) - (stamp == '' and 0 or 1)
if other > 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1`,
  local(api, [key], [ttlMs, seen, ...pairs]) {
    const k = key as string;
    const current = api.hgetall(k);
    const stamp = current[STAMP_FIELD] ?? "";
    if (stamp !== seen) return 0;
    if (Object.keys(current).length - (stamp === "" ? 0 : 1) > 0) return 0;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) fields[pairs[i] as string] = pairs[i + 1] as string;
    api.hset(k, fields);
    api.pexpire(k, Number(ttlMs));
    return 1;
  },
};

/** KEYS[1]; ARGV: ttlMs. Drops the entry, keeping its drop count, one more. Reply: the new count. */
export const dropHashScript: KvScript = {
  name: "hash_cache_drop",
  lua: `
local count = tonumber(redis.call('HGET', KEYS[1], '${STAMP_FIELD}') or '0') + 1
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '${STAMP_FIELD}', tostring(count))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return count`,
  local(api, [key], [ttlMs]) {
    const k = key as string;
    const count = Number(api.hget(k, STAMP_FIELD) ?? "0") + 1;
    api.del(k);
    api.hset(k, { [STAMP_FIELD]: String(count) });
    api.pexpire(k, Number(ttlMs));
    return count;
  },
};

export type HashFields = Record<string, string>;

/** A read: the entry, or a miss with the drop count seen (null when the store did not answer). */
type Read = { fields: HashFields } | { fields: undefined; stamp: string | null };

export class HashCache {
  constructor(
    /** The metrics' namespace label. */
    readonly name: string,
    readonly ttlMs: number,
    private readonly kv: KvStore,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {}

  /** The entry's fields; undefined for a miss (no entry, or a store that did not answer). */
  async get(key: string): Promise<HashFields | undefined> {
    return (await this.#read(key)).fields;
  }

  /**
   * Cache-aside: the cached fields, or `load()`'s, stored for next time
   * unless the entry was dropped while `load` ran. `undefined` (nothing
   * there) is not cached.
   */
  async getOrLoad(key: string, load: () => Promise<HashFields | undefined>): Promise<HashFields | undefined> {
    const read = await this.#read(key);
    if (read.fields !== undefined) return read.fields;
    const loaded = await load();
    if (loaded !== undefined && read.stamp !== null) await this.#fill(key, loaded, read.stamp);
    return loaded;
  }

  /**
   * Drops entries after their source changed: call once the write has
   * committed. A failure is logged and counted, not thrown (the write
   * stands); the entries' TTL bounds how stale they can get.
   */
  async invalidate(...keys: string[]): Promise<void> {
    for (const key of keys) {
      try {
        await this.kv.runScript(dropHashScript, [key], [this.ttlMs]);
        this.metrics.cacheInvalidations.inc({ namespace: this.name });
      } catch (error) {
        this.#count("error");
        this.logger.error(
          { err: error, namespace: this.name, key },
          "cache invalidation failed; entries expire by TTL",
        );
      }
    }
  }

  async #read(key: string): Promise<Read> {
    try {
      const { [STAMP_FIELD]: stamp, ...fields } = await this.kv.hgetall(key);
      const hit = Object.keys(fields).length > 0;
      this.#count(hit ? "hit" : "miss");
      return hit ? { fields } : { fields: undefined, stamp: stamp ?? "" };
    } catch (error) {
      this.#count("error");
      this.logger.warn({ err: error, namespace: this.name }, "cache read failed; treating as a miss");
      return { fields: undefined, stamp: null };
    }
  }

  async #fill(key: string, fields: HashFields, stamp: string): Promise<void> {
    const pairs = Object.entries(fields).flat();
    if (pairs.length === 0) return;
    try {
      await this.kv.runScript(fillHashScript, [key], [this.ttlMs, stamp, ...pairs]);
    } catch (error) {
      this.#count("error");
      this.logger.warn({ err: error, namespace: this.name }, "cache write failed; skipped");
    }
  }

  #count(outcome: "hit" | "miss" | "error") {
    this.metrics.cacheRequests.inc({ namespace: this.name, outcome });
  }
}
