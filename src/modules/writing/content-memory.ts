import { LRUCache } from "lru-cache";
import type { Platform } from "../../runtime/platform.ts";

/**
 * Current document contents held in this process, keyed by their SHA-256.
 * The key names the bytes, so an entry can never be stale and needs no
 * invalidation: it sits in front of the shared doc: cache and saves its
 * round trip (and the copy of the text through the key-value store) on every
 * read of a document whose content has not changed. Bounded by size (the
 * UTF-16 length JavaScript holds the text in), least recently read first out.
 */
const MAX_BYTES = 64 * 1024 * 1024;

const perPlatform = new WeakMap<Platform, LRUCache<string, string>>();

export function contentMemory(platform: Platform): LRUCache<string, string> {
  let memory = perPlatform.get(platform);
  if (!memory) {
    memory = new LRUCache<string, string>({
      maxSize: MAX_BYTES,
      sizeCalculation: (text) => Math.max(1, text.length * 2),
    });
    perPlatform.set(platform, memory);
  }
  return memory;
}
