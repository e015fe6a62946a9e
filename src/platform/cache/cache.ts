import type { Clock } from "../clock.ts";
import type { KvStore } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { HashCache } from "./hash-cache.ts";
import { LocalCaches } from "./local-cache.ts";
import { CACHE_NAMESPACES, type CacheNamespace } from "./namespaces.ts";
import { TieredCaches } from "./tiered-cache.ts";

/**
 * Namespaced JSON caches over the key-value store. A cache is never the
 * source of truth: if the store is down, a read is a miss and a write is
 * skipped (and counted), so a cache outage slows requests but fails none.
 */
export class Caches {
  readonly #namespaces = new Map<CacheNamespace, NamespacedCache>();
  readonly #hashes = new Map<string, HashCache>();
  /** In-process caches for per-request lookups, invalidated across processes (see local-cache.ts). */
  readonly local: LocalCaches;
  /** Two-tier caches: a hot in-process tier before a warm tier in the store, both bounded in bytes (tiered-cache.ts). */
  readonly tiered: TieredCaches;

  constructor(
    private readonly kv: KvStore,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    /** The in-process caches' clock for their TTLs; lru-cache's own (performance.now) when not given. */
    clock?: Clock,
  ) {
    this.local = new LocalCaches(kv, metrics, logger, clock);
    this.tiered = new TieredCaches(kv, this.local, metrics, logger);
  }

  ns(name: CacheNamespace): NamespacedCache {
    let cache = this.#namespaces.get(name);
    if (!cache) {
      cache = new NamespacedCache(name, this.kv, this.metrics, this.logger);
      this.#namespaces.set(name, cache);
    }
    return cache;
  }

  /**
   * A cache of key-value hashes under the caller's own keys (a module's
   * seed-given Redis hashes), named for its metrics. One per name: the
   * first call's TTL is the cache's.
   */
  hash(name: string, ttlMs: number): HashCache {
    let cache = this.#hashes.get(name);
    if (!cache) {
      cache = new HashCache(name, ttlMs, this.kv, this.metrics, this.logger);
      this.#hashes.set(name, cache);
    }
    return cache;
  }
}

export class NamespacedCache {
  readonly prefix: string;
  readonly ttlSeconds: number;

  constructor(
    readonly name: CacheNamespace,
    private readonly kv: KvStore,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.prefix = CACHE_NAMESPACES[name].prefix;
    this.ttlSeconds = CACHE_NAMESPACES[name].ttlSeconds;
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      const raw = await this.kv.get(this.prefix + key);
      this.#count(raw === null ? "miss" : "hit");
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch (error) {
      this.#count("error");
      this.logger.warn({ err: error, namespace: this.name }, "cache read failed; treating as a miss");
      return undefined;
    }
  }

  async set<T>(key: string, value: T, ttlSeconds = this.ttlSeconds): Promise<void> {
    try {
      await this.kv.set(this.prefix + key, JSON.stringify(value), { ttlMs: ttlSeconds * 1000 });
    } catch (error) {
      this.#count("error");
      this.logger.warn({ err: error, namespace: this.name }, "cache write failed; skipped");
    }
  }

  /** Cache-aside: the cached value, or `load()`'s, stored for next time. `undefined` results are not cached. */
  async getOrLoad<T>(key: string, load: () => Promise<T>, ttlSeconds = this.ttlSeconds): Promise<T> {
    const cached = await this.get<T>(key);
    if (cached !== undefined) return cached;
    const value = await load();
    if (value !== undefined) await this.set(key, value, ttlSeconds);
    return value;
  }

  /** Write-through: performs the write, then stores its result under `key`. */
  async writeThrough<T>(key: string, write: () => Promise<T>, ttlSeconds = this.ttlSeconds): Promise<T> {
    const value = await write();
    await this.set(key, value, ttlSeconds);
    return value;
  }

  /**
   * Drops keys after their source changed. The write has already happened,
   * so a failure here is logged and counted (outcome "error") rather than
   * failing the request; the entry's TTL bounds how stale it can get, which
   * is why security-relevant entries use short TTLs.
   */
  async invalidate(...keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.kv.del(...keys.map((k) => this.prefix + k));
      this.metrics.cacheInvalidations.inc({ namespace: this.name }, keys.length);
    } catch (error) {
      this.#count("error");
      this.logger.error({ err: error, namespace: this.name, keys }, "cache invalidation failed; entries expire by TTL");
    }
  }

  #count(outcome: "hit" | "miss" | "error") {
    this.metrics.cacheRequests.inc({ namespace: this.name, outcome });
  }
}
