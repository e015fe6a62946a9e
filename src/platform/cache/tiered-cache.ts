import { Gauge } from "prom-client";
import type { KvStore } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";
import type { LocalCache, LocalCaches } from "./local-cache.ts";
import { warmDeleteScript, warmGetScript, warmSetScript } from "./warm-tier-scripts.ts";

export interface TieredCacheOptions {
  /** The hot tier's bound: bytes of JSON held in this process. */
  hotBytes: number;
  /** The warm tier's bound: bytes of JSON held in the key-value store, shared by every process. */
  warmBytes: number;
  /** Both tiers' time to live: the backstop for a missed invalidation. */
  ttlMs: number;
}

export type CacheTier = "hot" | "warm";

const TIERS = ["hot", "warm"] as const;

/**
 * Seed 004's two-tier cache: a hot tier in this process (an LRU bounded in
 * bytes) in front of a warm tier in the key-value store (bounded in bytes
 * too, shared by every process), in front of the loader (the database).
 * A hot miss that the warm tier answers fills the hot tier; a miss in both
 * loads and fills both.
 *
 * Invalidation reaches everywhere: the warm entry is deleted, and the hot
 * tier's key is dropped here and published on `cache:invalidate`, so every
 * process's hot tier drops it (local-cache.ts; a missed message is bounded
 * by the TTL). A load racing an invalidation returns what it read without
 * storing it. The warm tier failing (the store down) is a miss, never an
 * error: a cache outage slows reads and fails none.
 *
 * Hits and misses per tier are counted in strata_cache_requests_total
 * (namespaces `hot.<name>`, `warm.<name>`), and each tier's hit ratio since
 * start is the gauge strata_cache_hit_ratio.
 */
export class TieredCache<T extends NonNullable<unknown>> {
  readonly #hot: LocalCache<T>;
  readonly #counts = { hot: { hit: 0, miss: 0 }, warm: { hit: 0, miss: 0 } };
  readonly #keys: { lru: string; sizes: string; bytes: string; values: string; seq: string };

  constructor(
    readonly name: string,
    private readonly options: TieredCacheOptions,
    private readonly kv: KvStore,
    private readonly local: LocalCaches,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.#hot = local.cache<T>(`tiered.${name}`, {
      ttlMs: options.ttlMs,
      maxBytes: options.hotBytes,
      // JSON's length in UTF-16 units, doubled: roughly what V8 holds for the parsed value.
      sizeOf: (value) => JSON.stringify(value).length * 2,
    });
    // The braces are a Redis Cluster hash tag: one cache's keys share a slot, as its scripts need.
    const base = `tc:{${name}}:`;
    this.#keys = {
      lru: `${base}lru`,
      sizes: `${base}sizes`,
      bytes: `${base}bytes`,
      values: `${base}v:`,
      seq: `${base}seq`,
    };
  }

  /** The cached value, from the hot tier, then the warm, then `load()` (undefined is not cached). */
  async getOrLoad(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hot = this.#hot.get(key);
    this.#count("hot", hot !== undefined);
    if (hot !== undefined) return hot;
    const seen = this.#hot.invalidations;
    const warm = await this.#warmGet(key);
    this.#count("warm", warm !== undefined);
    if (warm !== undefined) {
      if (seen === this.#hot.invalidations) this.#hot.set(key, warm);
      return warm;
    }
    const value = await load();
    if (value !== undefined && seen === this.#hot.invalidations) {
      this.#hot.set(key, value);
      await this.#warmSet(key, value);
    }
    return value;
  }

  /** Drops `key` from the warm tier and from every process's hot tier. */
  async invalidate(key: string): Promise<void> {
    try {
      await this.kv.runScript(warmDeleteScript, this.#scriptKeys(key), [key]);
    } catch (error) {
      this.logger.error({ err: error, cache: this.name, key }, "warm cache invalidation failed; entries expire by TTL");
    }
    await this.local.invalidate(`tiered.${this.name}`, key);
  }

  /** Each tier's hit ratio since start (0 before any read). */
  hitRatio(tier: CacheTier): number {
    const { hit, miss } = this.#counts[tier];
    return hit + miss === 0 ? 0 : hit / (hit + miss);
  }

  /** Bytes the hot tier holds in this process. */
  get hotBytes(): number {
    return this.#hot.bytes;
  }

  async #warmGet(key: string): Promise<T | undefined> {
    try {
      const raw = await this.kv.runScript(warmGetScript, this.#scriptKeys(key), [key]);
      return typeof raw === "string" ? (JSON.parse(raw) as T) : undefined;
    } catch (error) {
      this.metrics.cacheRequests.inc({ namespace: `warm.${this.name}`, outcome: "error" });
      this.logger.warn({ err: error, cache: this.name }, "warm cache read failed; treating as a miss");
      return undefined;
    }
  }

  async #warmSet(key: string, value: T): Promise<void> {
    const payload = JSON.stringify(value);
    try {
      await this.kv.runScript(warmSetScript, this.#scriptKeys(key), [
        key,
        payload,
        this.options.ttlMs,
        this.options.warmBytes,
      ]);
    } catch (error) {
      this.metrics.cacheRequests.inc({ namespace: `warm.${this.name}`, outcome: "error" });
      this.logger.warn({ err: error, cache: this.name }, "warm cache write failed; skipped");
    }
  }

  #scriptKeys(key: string): string[] {
    const k = this.#keys;
    return [k.lru, k.sizes, k.bytes, k.values + key, k.values, k.seq];
  }

  #count(tier: CacheTier, hit: boolean): void {
    this.#counts[tier][hit ? "hit" : "miss"]++;
    this.metrics.cacheRequests.inc({ namespace: `${tier}.${this.name}`, outcome: hit ? "hit" : "miss" });
  }
}

/** The process's tiered caches, by name, with their hit ratios as one gauge. */
export class TieredCaches {
  readonly #caches = new Map<string, TieredCache<NonNullable<unknown>>>();

  constructor(
    private readonly kv: KvStore,
    private readonly local: LocalCaches,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    const caches = this.#caches;
    new Gauge({
      name: "strata_cache_hit_ratio",
      help: "Two-tier caches: each tier's hit ratio since the process started (hot: in-process; warm: key-value store).",
      labelNames: ["cache", "tier"],
      registers: [metrics.registry],
      collect() {
        for (const cache of caches.values()) {
          for (const tier of TIERS) this.set({ cache: cache.name, tier }, cache.hitRatio(tier));
        }
      },
    });
  }

  /** The cache called `name`, made with `options` on first use. */
  cache<T extends NonNullable<unknown>>(name: string, options: TieredCacheOptions): TieredCache<T> {
    let cache = this.#caches.get(name);
    if (!cache) {
      cache = new TieredCache(name, options, this.kv, this.local, this.metrics, this.logger);
      this.#caches.set(name, cache);
    }
    return cache as unknown as TieredCache<T>;
  }
}
