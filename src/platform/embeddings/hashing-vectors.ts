import { normalize } from "./embedder.ts";

/**
 * The offline default embedder's vectors (HashingEmbedder): no model files, no network, the same vector
 * for the same text on every machine. A text's features are its words, its
 * word pairs and its words' character trigrams (with word-boundary marks,
 * so "running" and "runs" share "<ru" and "run"), each hashed into one of
 * HASHING_DIMENSION buckets with a sign from the same hash (signed feature hashing:
 * collisions cancel out on average instead of piling up), weighted by a
 * sublinear count (1 + ln n), and the whole scaled to unit length.
 *
 * It finds texts that share words and word forms, and tolerates typos; it
 * does not know that "car" and "automobile" mean the same thing. That is a
 * real model's work: configure one (an OpenAI-compatible endpoint) where
 * paraphrases must be found.
 */
export const HASHING_MODEL = "strata-hashing-v1";
export const HASHING_DIMENSION = 384;

/** Feature weights: whole words count most; pairs and trigrams add order and word-form overlap. */
const WORD = 1;
const PAIR = 0.5;
const TRIGRAM = 0.35;

/** Words too common to say anything about a text's subject (English; other languages keep theirs). */
const STOP_WORDS = new Set(
  (
    "a an and are as at be but by for from had has have he her his i in is it its me my of on or our she so " +
    "that the their them then there they this to was we were what when which who will with you your"
  ).split(" "),
);

/** The vectors of many texts (the compute pool's entry: worker-safe, no platform imports). */
export function hashingVectors(texts: readonly string[]): number[][] {
  return texts.map((text) => hashingVector(text));
}

/** The words of a text: NFKC, lower case, runs of letters and digits. */
export function words(text: string): string[] {
  return (
    text
      .normalize("NFKC")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

export function hashingVector(text: string): number[] {
  // Features are counted by their 32-bit hash (a collision merges two features, as sharing a bucket would),
  // hashed piece by piece, so no feature string is ever built.
  const wordCounts = new Map<number, number>();
  const pairCounts = new Map<number, number>();
  const trigramCounts = new Map<number, number>();
  const count = (counts: Map<number, number>, hash: number) => counts.set(hash, (counts.get(hash) ?? 0) + 1);
  const kept = words(text).filter((word) => !STOP_WORDS.has(word));
  for (const [i, word] of kept.entries()) {
    const wordHash = fnv1a(WORD_SEED, word);
    count(wordCounts, wordHash >>> 0);
    const next = kept[i + 1];
    if (next !== undefined) count(pairCounts, fnv1a(step(fnv1a(PAIR_SEED, word), 32), next) >>> 0);
    // The trigrams of "<word>", the marks standing for the word's edges.
    for (let j = -1; j + 1 < word.length; j++) {
      const first = j < 0 ? 60 : word.charCodeAt(j);
      const third = j + 2 < word.length ? word.charCodeAt(j + 2) : 62;
      count(trigramCounts, step(step(step(TRIGRAM_SEED, first), word.charCodeAt(j + 1)), third) >>> 0);
    }
  }
  const vector = new Array<number>(HASHING_DIMENSION).fill(0);
  const add = (counts: Map<number, number>, weight: number) => {
    for (const [hash, n] of counts) {
      const index = hash % HASHING_DIMENSION;
      vector[index] = (vector[index] as number) + (hash & 0x80000000 ? -1 : 1) * weight * (1 + Math.log(n));
    }
  };
  add(wordCounts, WORD);
  add(pairCounts, PAIR);
  add(trigramCounts, TRIGRAM);
  return normalize(vector);
}

/** Each feature kind hashes from a seed of its own (FNV-1a's offset basis, then the kind's letter). */
const WORD_SEED = step(0x811c9dc5, 119);
const PAIR_SEED = step(0x811c9dc5, 112);
const TRIGRAM_SEED = step(0x811c9dc5, 116);

/** One step of 32-bit FNV-1a: fast, and well spread for short keys. */
function step(hash: number, code: number): number {
  return Math.imul(hash ^ code, 0x01000193);
}

function fnv1a(seed: number, value: string): number {
  let hash = seed;
  for (let i = 0; i < value.length; i++) hash = step(hash, value.charCodeAt(i));
  return hash;
}
