import type { Config } from "../config/config.ts";
import type { ComputePool } from "../platform/compute/compute-pool.ts";
import { CachedEmbedder } from "../platform/embeddings/cached-embedder.ts";
import type { Embedder } from "../platform/embeddings/embedder.ts";
import { EmbedderRegistry } from "../platform/embeddings/embedder-registry.ts";
import { HashingEmbedder } from "../platform/embeddings/hashing-embedder.ts";
import { HASHING_MODEL } from "../platform/embeddings/hashing-vectors.ts";
import type { KvStore } from "../platform/kv/kv-store.ts";

/**
 * The embedders the configuration names. With EMBEDDING_MODEL_DIR, local
 * transformers.js models: the passage model for long texts, the short model
 * for short ones, and any other model directory there by name (the previous
 * configuration's, while its successor is built); their vectors are kept a
 * day by text too, as a forward pass costs far more than a cache read.
 * With EMBEDDING_BASE_URL, its model
 * embeds every source, and any other model name reaches the same endpoint
 * (a previous configuration's model keeps answering while its successor is
 * built); a remote model's vectors are kept a day by text (seed 002).
 * Without it, the offline hashing embedder, which computes faster than a
 * cache answers. The hashing model is always reachable by name.
 */
export async function openEmbedders(
  config: Readonly<Config>,
  kv: KvStore,
  compute: ComputePool,
): Promise<EmbedderRegistry> {
  const hashing = new HashingEmbedder(compute);
  const local = config.localEmbeddings;
  if (local) {
    const { LocalModelEmbedder, hasLocalModel } = await import("../platform/embeddings/local-model-embedder.ts");
    const byModel = new Map<string, Embedder>();
    const localModel = (model: string): Embedder => {
      let embedder = byModel.get(model);
      if (!embedder) {
        embedder = new CachedEmbedder(new LocalModelEmbedder(compute, local.modelDir, model), kv);
        byModel.set(model, embedder);
      }
      return embedder;
    };
    // Made now, so a missing or incomplete model directory stops the start with its name.
    const configured = { passage: localModel(local.passageModel), short: localModel(local.shortModel) };
    return new EmbedderRegistry(configured, (model) => {
      if (model === HASHING_MODEL) return hashing;
      return hasLocalModel(local.modelDir, model) ? localModel(model) : null;
    });
  }
  const remote = config.embeddings;
  if (!remote)
    return new EmbedderRegistry({ passage: hashing, short: hashing }, (model) =>
      model === HASHING_MODEL ? hashing : null,
    );
  const { OpenAiEmbedder } = await import("../platform/embeddings/openai-embedder.ts");
  const byModel = new Map<string, Embedder>();
  const remoteModel = (model: string): Embedder => {
    let embedder = byModel.get(model);
    if (!embedder) {
      embedder = new CachedEmbedder(new OpenAiEmbedder({ ...remote, model }), kv);
      byModel.set(model, embedder);
    }
    return embedder;
  };
  const configured = remoteModel(remote.model);
  return new EmbedderRegistry({ passage: configured, short: configured }, (model) =>
    model === HASHING_MODEL ? hashing : remoteModel(model),
  );
}
