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
export const contentMemory = textMemoryPerPlatform<string>(64 * 1024 * 1024);

/**
 * One size-bounded LRU of strings per platform (tests run several side by
 * side), created on first use; sizes count the UTF-16 bytes a string holds.
 */
export function textMemoryPerPlatform<K extends {}>(maxBytes: number): (platform: Platform) => LRUCache<K, string> {
  const perPlatform = new WeakMap<Platform, LRUCache<K, string>>();
  return (platform) => {
    let memory = perPlatform.get(platform);
    if (!memory) {
      memory = new LRUCache<K, string>({
        maxSize: maxBytes,
        sizeCalculation: (text) => Math.max(1, text.length * 2),
      });
      perPlatform.set(platform, memory);
    }
    return memory;
  };
}
