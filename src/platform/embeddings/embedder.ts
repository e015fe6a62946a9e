/**
 * Text embeddings, as every module that searches by meaning uses them
 * (journal entries and topics, chat files, knowledge). One interface, several
 * providers: an OpenAI-compatible embeddings endpoint (OpenAI, Ollama, vLLM,
 * llama.cpp's server; openai-embedder.ts), a transformers.js model from a
 * local directory (local-model-embedder.ts), and the offline default that
 * needs no model files (hashing-embedder.ts), so an embedded start works
 * with no setup.
 *
 * Every vector is stored with the model that made it and its dimension:
 * vectors of different models are never compared (their spaces have nothing
 * to do with each other, even at one dimension).
 */
export interface Embedder {
  /** The model's name as stored beside each vector, e.g. "strata-hashing-v1" or "text-embedding-3-small". */
  readonly model: string;
  /** The vectors' dimension, when known before the first call (remote models tell it with their first answer). */
  readonly dimension: number | null;
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}

/** A vector's length scaled to 1 (a zero vector stays zero: it has no direction). */
export function normalize(vector: number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  return vector.map((v) => v * scale);
}

/** Cosine similarity of two vectors of one model (unit length: their dot product). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`vectors of dimensions ${a.length} and ${b.length} do not compare`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
