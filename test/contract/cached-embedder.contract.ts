import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CachedEmbedder,
  EMBEDDING_CACHE_TTL_MS,
  embeddingCacheKey,
} from "../../src/platform/embeddings/cached-embedder.ts";
import type { Embedder } from "../../src/platform/embeddings/embedder.ts";
import type { KvStore } from "../../src/platform/kv/kv-store.ts";
import { kvStoreForSuite } from "../support/kv-suite.ts";

/** An embedder that counts what it is asked: vectors from letter codes, so tests can predict them. */
function countingEmbedder(model: string) {
  const asked: string[][] = [];
  const embedder: Embedder = {
    model,
    dimension: 3,
    async embed(texts) {
      asked.push([...texts]);
      return texts.map((text) => [text.length, text.charCodeAt(0) / 100, 0.25]);
    },
  };
  return { embedder, asked };
}

/**
 * Seed 002's embedding cache on every key-value store: a text embedded once
 * is answered from `models:embeddings:{text_hash}` for a day, only the
 * texts the store lacks reach the model (once each), and two models' vectors
 * for one text do not meet.
 */
export function cachedEmbedderContract(name: string, open: () => Promise<KvStore>) {
  describe(`embedding cache: ${name}`, () => {
    const store = kvStoreForSuite(open);

    it("asks the model only for texts it has not kept, and answers the rest from the store", async () => {
      const { embedder, asked } = countingEmbedder("model-a");
      const kv = store();
      const cached = new CachedEmbedder(embedder, kv);
      const first = await cached.embed(["river", "dawn", "river"]);
      assert.deepEqual(asked, [["river", "dawn"]], "each missing text once");
      const second = await cached.embed(["dawn", "walk", "river"]);
      assert.deepEqual(asked.at(-1), ["walk"]);
      assert.deepEqual(second[0], first[1]);
      assert.deepEqual(second[2], first[0]);
      // Stored as float32: the values these vectors hold come back exactly.
      assert.deepEqual(
        second[1],
        [4, 1.19, 0.25].map((v) => Math.fround(v)),
      );
      const ttl = await kv.ttl(embeddingCacheKey("model-a", "walk"));
      assert.ok(ttl > EMBEDDING_CACHE_TTL_MS - 60_000 && ttl <= EMBEDDING_CACHE_TTL_MS, `ttl ${ttl}`);
    });

    it("keeps each model's vectors apart", async () => {
      const other = countingEmbedder("model-b");
      await new CachedEmbedder(other.embedder, store()).embed(["river"]);
      assert.deepEqual(other.asked, [["river"]], "model-a's vector for the text is not model-b's");
      assert.notEqual(embeddingCacheKey("model-a", "river"), embeddingCacheKey("model-b", "river"));
      assert.match(embeddingCacheKey("model-a", "river"), /^models:embeddings:[0-9a-f]{64}$/);
    });
  });
}
