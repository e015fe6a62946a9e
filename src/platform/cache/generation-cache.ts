import { LRUCache } from "lru-cache";
import type { Metrics } from "../metrics/metrics.ts";

/**
 * An in-process cache whose entries are served only at the generation they
 * were loaded at (see generations.ts for where generations come from and
 * why that is exact across processes). The caller says which generation is
 * current; an entry of any other generation is a miss and is replaced by the
 * load, so nothing needs invalidating here.
 *
 * Generations only grow, so a load that finishes after a newer one (a reader
 * that was slower) does not replace the newer entry. Concurrent misses for
 * one key and generation share one load. Entries also expire after `ttlMs`:
 * the backstop for writes that bypass the generations (a hand-written
 * statement, a cascade from another table).
 */
export class GenerationCache<T extends NonNullable<unknown>> {
  readonly #entries: LRUCache<string, { generation: number; value: T }>;
  readonly #loading = new Map<string, { generation: number; value: Promise<T | undefined> }>();
  readonly #hit: { inc(): void };
  readonly #miss: { inc(): void };

  constructor(name: string, options: { max: number; ttlMs: number }, metrics: Metrics) {
    this.#entries = new LRUCache({ max: options.max, ttl: options.ttlMs });
    this.#hit = metrics.cacheRequests.labels({ namespace: `generation.${name}`, outcome: "hit" });
    this.#miss = metrics.cacheRequests.labels({ namespace: `generation.${name}`, outcome: "miss" });
  }

  /** The entry for `key` loaded at `generation`, if there is one. */
  get(key: string, generation: number): T | undefined {
    const entry = this.#entries.get(key);
    return entry?.generation === generation ? entry.value : undefined;
  }

  /**
   * The value loaded at `generation`, or `load()`'s (which the caller starts
   * only now, after learning the generation), stored unless a newer
   * generation's is already there. `undefined` is not stored.
   */
  async getOrLoad(key: string, generation: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const entry = this.#entries.get(key);
    if (entry?.generation === generation) {
      this.#hit.inc();
      return entry.value;
    }
    this.#miss.inc();
    const pending = this.#loading.get(key);
    if (pending?.generation === generation) return pending.value;
    const value = load().then(
      (loaded) => {
        if (this.#loading.get(key)?.value === value) this.#loading.delete(key);
        const current = this.#entries.get(key);
        if (loaded !== undefined && (current === undefined || current.generation < generation)) {
          this.#entries.set(key, { generation, value: loaded });
        }
        return loaded;
      },
      (error: unknown) => {
        if (this.#loading.get(key)?.value === value) this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, { generation, value });
    return value;
  }
}
