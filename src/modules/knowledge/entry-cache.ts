import type { TieredCache } from "../../platform/cache/tiered-cache.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { AnyKind } from "./kinds.ts";
import { announceChange } from "./knowledge-copy.ts";

/** An entry as the cache holds it: its view, and its tenant (the caller's access is checked on every read). */
export interface CachedEntry {
  organizationId: string | null;
  view: Record<string, unknown>;
}

/** The backstop for a missed invalidation; a write invalidates at once. */
const TTL_MS = 5 * 60_000;

/**
 * Knowledge entries by id, in seed 004's two-tier cache (hot in each
 * process, warm in the key-value store), with the configured bounds. Every
 * write of an entry invalidates it (`forgetEntries`) once its transaction
 * has committed.
 */
export function entryCache(platform: Platform): TieredCache<CachedEntry> {
  return platform.caches.tiered.cache<CachedEntry>("knowledge", {
    hotBytes: platform.config.knowledge.cacheHotBytes,
    warmBytes: platform.config.knowledge.cacheWarmBytes,
    ttlMs: TTL_MS,
  });
}

export const entryCacheKey = (spec: AnyKind, id: string) => `${spec.kind}:${id}`;

/**
 * After a write commits: drops the entries from both cache tiers in every
 * process, and tells every process's local copy that the catalog changed.
 */
export async function forgetEntries(platform: Platform, spec: AnyKind, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const cache = entryCache(platform);
  for (const id of ids) await cache.invalidate(entryCacheKey(spec, id));
  await announceChange(platform);
}
