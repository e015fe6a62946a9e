import { LRUCache } from "lru-cache";
import type { Clock } from "../clock.ts";
import type { KvStore, Unsubscribe } from "../kv/kv-store.ts";
import type { Logger } from "../logging/logger.ts";
import type { Metrics } from "../metrics/metrics.ts";

/**
 * In-process caches for what every request looks up (an organization's plan
 * and limits, a membership's role, an API key's row), so the hot path asks
 * neither the database nor the key-value store for them.
 *
 * Every process keeps its own copy, so a change must reach all of them: the
 * writer calls `invalidate`, which drops the entry here and publishes it on
 * the key-value store's channel `cache:invalidate`; every process (this one
 * included) drops it on receipt. A message can be lost (the store is down,
 * a subscriber is reconnecting), so every entry also has a short TTL: the
 * longest a missed invalidation can leave a stale entry in place.
 *
 * A load racing an invalidation must not put the old value back: each cache
 * counts invalidations, and a load that saw the count change while it ran
 * returns its value without storing it.
 */
export const INVALIDATION_CHANNEL = "cache:invalidate";

export interface LocalCacheOptions {
  /** The backstop for a missed invalidation. */
  ttlMs: number;
  /** Entries kept; the least recently used go first. At least one of max and maxBytes. */
  max?: number;
  /**
   * Bytes kept (as `sizeOf` measures each entry), when the bound is memory
   * rather than a count: the least recently used go first.
   */
  maxBytes?: number;
  sizeOf?: (value: NonNullable<unknown>, key: string) => number;
}

export class LocalCaches {
  readonly #caches = new Map<string, LocalCache<NonNullable<unknown>>>();
  #unsubscribe: Unsubscribe | null = null;

  constructor(
    private readonly kv: KvStore,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly clock?: Clock,
  ) {}

  /** Subscribes to invalidations from every process; call once at start. */
  async listen(): Promise<void> {
    if (this.#unsubscribe) return;
    this.#unsubscribe = await this.kv.subscribe(INVALIDATION_CHANNEL, (message) => {
      const split = message.indexOf("\n");
      if (split < 0) return;
      this.#caches.get(message.slice(0, split))?.drop(message.slice(split + 1));
    });
  }

  /** The cache called `name`, created with `options` on first use. */
  cache<T extends NonNullable<unknown>>(name: string, options: LocalCacheOptions): LocalCache<T> {
    let cache = this.#caches.get(name);
    if (!cache) {
      cache = new LocalCache<NonNullable<unknown>>(name, options, this.metrics, this.clock);
      this.#caches.set(name, cache);
    }
    return cache as unknown as LocalCache<T>;
  }

  /**
   * Drops `key` from cache `name` in every process. Resolves once this
   * process has dropped it and the message is published; a failed publish is
   * logged, not thrown (the write it follows has happened), and other
   * processes catch up within the cache's TTL.
   */
  async invalidate(name: string, key: string): Promise<void> {
    this.#caches.get(name)?.drop(key);
    this.metrics.cacheInvalidations.inc({ namespace: `local.${name}` });
    try {
      await this.kv.publish(INVALIDATION_CHANNEL, `${name}\n${key}`);
    } catch (error) {
      this.logger.error(
        { err: error, cache: name, key },
        "could not publish a cache invalidation; other processes catch up by TTL",
      );
    }
  }

  async close(): Promise<void> {
    await this.#unsubscribe?.().catch(() => {});
    this.#unsubscribe = null;
  }
}

export class LocalCache<T extends NonNullable<unknown>> {
  readonly #entries: LRUCache<string, T>;
  readonly #loading = new Map<string, Promise<T | undefined>>();
  #invalidations = 0;
  readonly #hit: { inc(): void };
  readonly #miss: { inc(): void };

  constructor(
    readonly name: string,
    options: LocalCacheOptions,
    metrics: Metrics,
    /** For TTLs; lru-cache's own monotonic clock when not given (production). */
    clock?: Clock,
  ) {
    const common = {
      ttl: options.ttlMs,
      // lru-cache reuses a reading of its clock for ttlResolution ms of real
      // time; a clock a test moves must be read every time.
      ...(clock ? { perf: clock, ttlResolution: 0 } : {}),
    };
    const bound: LRUCache.Options<string, T, unknown> = options.maxBytes
      ? {
          ...common,
          ...(options.max ? { max: options.max } : {}),
          maxSize: options.maxBytes,
          // An entry larger than the whole bound is not kept (lru-cache refuses it).
          sizeCalculation: (value: T, key: string) => Math.max(1, options.sizeOf?.(value, key) ?? 1),
        }
      : { ...common, max: options.max ?? 1_000 };
    this.#entries = new LRUCache<string, T>(bound);
    this.#hit = metrics.cacheRequests.labels({ namespace: `local.${name}`, outcome: "hit" });
    this.#miss = metrics.cacheRequests.labels({ namespace: `local.${name}`, outcome: "miss" });
  }

  get(key: string): T | undefined {
    return this.#entries.get(key);
  }

  /** Bytes held, when the cache is bounded in bytes (else 0). */
  get bytes(): number {
    return this.#entries.calculatedSize ?? 0;
  }

  /** How many invalidations this cache has seen: a load that saw it change must not store what it read. */
  get invalidations(): number {
    return this.#invalidations;
  }

  /**
   * The cached value, or `load()`'s, stored for next time (`undefined` is
   * not stored). Concurrent misses for one key share one load.
   */
  async getOrLoad(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#hit.inc();
      return cached;
    }
    this.#miss.inc();
    let pending = this.#loading.get(key);
    if (!pending) {
      const seen = this.#invalidations;
      pending = load().then(
        (value) => {
          this.#loading.delete(key);
          if (value !== undefined && seen === this.#invalidations) this.#entries.set(key, value);
          return value;
        },
        (error) => {
          this.#loading.delete(key);
          throw error;
        },
      );
      this.#loading.set(key, pending);
    }
    return pending;
  }

  /** Replaces an entry this process just changed (it invalidates the others itself). */
  set(key: string, value: T): void {
    this.#entries.set(key, value);
  }

  /** Drops one entry here only; `LocalCaches.invalidate` reaches every process. */
  drop(key: string): void {
    this.#invalidations++;
    this.#entries.delete(key);
    // A load already in flight may have read the old row: let it finish
    // without storing, and let the next caller load afresh.
    this.#loading.delete(key);
  }
}
