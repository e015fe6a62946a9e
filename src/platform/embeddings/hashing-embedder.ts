import { type Embedder, normalize } from "./embedder.ts";

/**
 * The offline default embedder: no model files, no network, the same vector
 * for the same text on every machine. A text's features are its words, its
 * word pairs and its words' character trigrams (with word-boundary marks,
 * so "running" and "runs" share "<ru" and "run"), each hashed into one of
 * DIMENSION buckets with a sign from the same hash (signed feature hashing:
 * collisions cancel out on average instead of piling up), weighted by a
 * sublinear count (1 + ln n), and the whole scaled to unit length.
 *
 * It finds texts that share words and word forms, and tolerates typos; it
 * does not know that "car" and "automobile" mean the same thing. That is a
 * real model's work: configure one (an OpenAI-compatible endpoint) where
 * paraphrases must be found.
 */
export const HASHING_MODEL = "strata-hashing-v1";
const DIMENSION = 384;

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

export class HashingEmbedder implements Embedder {
  readonly model = HASHING_MODEL;
  readonly dimension = DIMENSION;

  async embed(texts: readonly string[]): Promise<number[][]> {
    return texts.map((text) => hashingVector(text));
  }
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
  const counts = new Map<string, number>();
  const add = (feature: string) => counts.set(feature, (counts.get(feature) ?? 0) + 1);
  const kept = words(text).filter((word) => !STOP_WORDS.has(word));
  for (const [i, word] of kept.entries()) {
    add(`w:${word}`);
    const next = kept[i + 1];
    if (next !== undefined) add(`p:${word} ${next}`);
    const marked = `<${word}>`;
    for (let j = 0; j + 3 <= marked.length; j++) add(`t:${marked.slice(j, j + 3)}`);
  }
  const vector = new Array<number>(DIMENSION).fill(0);
  for (const [feature, n] of counts) {
    const hash = fnv1a(feature);
    const weight = feature.startsWith("w:") ? WORD : feature.startsWith("p:") ? PAIR : TRIGRAM;
    const index = hash % DIMENSION;
    vector[index] = (vector[index] as number) + (hash & 0x80000000 ? -1 : 1) * weight * (1 + Math.log(n));
  }
  return normalize(vector);
}

/** 32-bit FNV-1a over the string's UTF-16 code units: fast, and well spread for short keys. */
function fnv1a(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
