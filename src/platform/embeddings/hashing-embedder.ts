import type { ComputePool } from "../compute/compute-pool.ts";
import { defineComputeTask, siblingModule } from "../compute/compute-task.ts";
import type { Embedder } from "./embedder.ts";
import { HASHING_DIMENSION, HASHING_MODEL, hashingVectors } from "./hashing-vectors.ts";

/**
 * Texts of up to this many characters in all are embedded on the event loop
 * (about a millisecond); more go to the compute pool (64 KB takes about
 * 20 ms, 256 KB about 70 ms).
 */
const INLINE_MAX_CHARS = 8 * 1024;

export const hashingEmbedTask = defineComputeTask<readonly string[], number[][]>({
  name: "embeddings.hashing",
  file: siblingModule(import.meta.url, "./hashing-vectors"),
  exportName: "hashingVectors",
  run: hashingVectors,
  runsInline: (texts) => texts.reduce((chars, text) => chars + text.length, 0) <= INLINE_MAX_CHARS,
});

/** The offline default embedder (hashing-vectors.ts), large inputs off the event loop. */
export class HashingEmbedder implements Embedder {
  readonly model = HASHING_MODEL;
  readonly dimension = HASHING_DIMENSION;

  constructor(private readonly compute: ComputePool) {}

  embed(texts: readonly string[]): Promise<number[][]> {
    return this.compute.run(hashingEmbedTask, texts);
  }
}
