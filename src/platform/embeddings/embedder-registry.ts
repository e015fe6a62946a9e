import type { Embedder } from "./embedder.ts";
import type { ModelClass } from "./embedding-sources.ts";

/**
 * The embedders this process can use: the configured one for each model
 * class, and any other model it can still reach by name (the offline
 * hashing model always; another model of the configured endpoint), so a
 * source whose active model is the previous configuration's keeps
 * answering queries while its vectors are rebuilt with the new one.
 */
export class EmbedderRegistry {
  constructor(
    private readonly configured: Readonly<Record<ModelClass, Embedder>>,
    /** An embedder for a model that is not configured, when this process can reach it; null otherwise. */
    private readonly other: (model: string) => Embedder | null,
  ) {}

  forClass(modelClass: ModelClass): Embedder {
    return this.configured[modelClass];
  }

  forModel(model: string): Embedder | null {
    for (const embedder of Object.values(this.configured)) if (embedder.model === model) return embedder;
    return this.other(model);
  }
}
