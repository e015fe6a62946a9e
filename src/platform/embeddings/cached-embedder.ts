import { createHash } from "node:crypto";
import type { KvStore } from "../kv/kv-store.ts";
import type { Embedder } from "./embedder.ts";

/** Seed 002's embedding cache: a day. */
export const EMBEDDING_CACHE_TTL_MS = 24 * 60 * 60_000;

/**
 * Seed 002's `models:embeddings:{text_hash}` key. The hash covers the model
 * as well as the text, so two models' vectors for one text never meet.
 */
export function embeddingCacheKey(model: string, text: string): string {
  return `models:embeddings:${createHash("sha256").update(model).update("\n").update(text).digest("hex")}`;
}

/**
 * An embedder whose vectors are kept in the key-value store for a day, by
 * text: a text embedded again (an entry saved unchanged, a repeated query)
 * costs one store round trip instead of a provider call. The texts of one
 * call are looked up together and only the missing ones are sent, in one
 * call. Vectors are stored as little-endian float32 in base64 (about 2 KB
 * for 384 dimensions: the precision pgvector keeps too), and fresh ones
 * are rounded to it as well.
 * For a remote or a local transformer model; the offline hashing embedder
 * computes faster than a store answers.
 */
export class CachedEmbedder implements Embedder {
  constructor(
    private readonly inner: Embedder,
    private readonly kv: KvStore,
  ) {}

  get model(): string {
    return this.inner.model;
  }

  get dimension(): number | null {
    return this.inner.dimension;
  }

  async embed(texts: readonly string[], options: { signal?: AbortSignal } = {}): Promise<number[][]> {
    if (texts.length === 0) return [];
    const keys = texts.map((text) => embeddingCacheKey(this.inner.model, text));
    // The cache is a saving, not a dependency: a store that is out means asking the model.
    const cached = await this.kv.mget(keys).catch(() => keys.map(() => null));
    const vectors = cached.map((value) => (value === null ? null : decode(value)));
    const missing = [...new Set(texts.filter((_, i) => vectors[i] === null))];
    if (missing.length > 0) {
      const fresh = await this.inner.embed(missing, options);
      // Rounded to float32 as stored, so a text's vector is the same whether it came from the store or not.
      const byText = new Map(missing.map((text, i) => [text, (fresh[i] as number[]).map(Math.fround)]));
      await Promise.all(
        missing.map((text) =>
          this.kv
            .set(embeddingCacheKey(this.inner.model, text), encode(byText.get(text) as number[]), {
              ttlMs: EMBEDDING_CACHE_TTL_MS,
            })
            .catch(() => false),
        ),
      );
      for (const [i, text] of texts.entries()) vectors[i] ??= byText.get(text) as number[];
    }
    return vectors as number[][];
  }
}

function encode(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (const [i, v] of vector.entries()) bytes.writeFloatLE(v, i * 4);
  return bytes.toString("base64");
}

function decode(value: string): number[] {
  const bytes = Buffer.from(value, "base64");
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}
