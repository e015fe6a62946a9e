/**
 * A journal corpus for the search benchmarks, from real English prose: the
 * sentences of a real document (the latest README.md of
 * ../shared/data/histories), recombined. Entries get real word frequencies
 * and real stop words, which generated words would not have; queries are
 * words of middling frequency, as people search for.
 */
import { readRealHistory } from "../test/support/real-histories.ts";

export interface CorpusEntry {
  title: string;
  content: string;
  entryDate: string;
}

/**
 * A seeded generator (mulberry32, in 32-bit integer arithmetic): the same
 * corpus every run, and a period long enough for 100,000 entries (a linear
 * congruence computed in doubles loses bits and cycles within a few
 * hundred draws).
 */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The document's prose sentences over its whole history: markup, links and code removed; four words at least. */
export function sentences(): string[] {
  const unique = new Set<string>();
  for (const text of readRealHistory("README.md")) {
    const found = text
      .replace(/```[\s\S]*?```/g, " ")
      .replace(/`[^`\n]*`/g, " ")
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .replace(/[#*>_|]/g, " ")
      .split(/(?<=[.!?])\s+|\n+/)
      // List items lose their bullets: most of this document's prose is in lists.
      .map((s) =>
        s
          .replace(/\s+/g, " ")
          .replace(/^[-+\d.)\s]+/, "")
          .trim(),
      )
      .filter((s) => s.split(" ").length >= 4 && /^[A-Za-z]/.test(s));
    for (const sentence of found) unique.add(sentence);
  }
  return [...unique].sort();
}

/**
 * `count` entries of two to eight sentences, titled by a sentence's first
 * words, dated over four years. One word in ten is swapped for another of
 * the document's words, so no two entries are the same text (recombined
 * sentences alone would repeat, and ties would blur the vector recall).
 */
export function journalCorpus(count: number, seed = 7): CorpusEntry[] {
  const pool = sentences();
  const vocabulary = [...new Set(pool.join(" ").split(" "))].sort();
  const random = generator(seed);
  const pick = () =>
    (pool[Math.floor(random() * pool.length)] as string)
      .split(" ")
      .map((word) => (random() < 0.1 ? (vocabulary[Math.floor(random() * vocabulary.length)] as string) : word))
      .join(" ");
  const start = Date.UTC(2022, 0, 1);
  return Array.from({ length: count }, () => {
    const words = pick().split(" ");
    const title = words.slice(0, 2 + Math.floor(random() * 3)).join(" ");
    const content = Array.from({ length: 2 + Math.floor(random() * 7) }, pick).join(" ");
    const entryDate = new Date(start + Math.floor(random() * 4 * 365) * 86_400_000).toISOString().slice(0, 10);
    return { title, content, entryDate };
  });
}

/**
 * Query words: alphabetic, five letters or more, found in between 0.2% and
 * 3% of a sample of entries (rarer words find nothing much; commoner ones
 * are not what people search for); `count` queries of one or two of them.
 */
export function queryWords(corpus: readonly CorpusEntry[], count: number, seed = 11): string[] {
  const sample = corpus.slice(0, 5_000);
  const frequency = new Map<string, number>();
  for (const entry of sample) {
    const words = new Set(`${entry.title} ${entry.content}`.toLowerCase().match(/[a-z]{5,}/g) ?? []);
    for (const word of words) frequency.set(word, (frequency.get(word) ?? 0) + 1);
  }
  const candidates = [...frequency]
    .filter(([, n]) => n >= sample.length * 0.002 && n <= sample.length * 0.03)
    .map(([word]) => word)
    .sort();
  const random = generator(seed);
  const word = () => candidates[Math.floor(random() * candidates.length)] as string;
  return Array.from({ length: count }, (_, i) => (i % 2 === 0 ? word() : `${word()} ${word()}`));
}

/** A word with one letter dropped: what trigram matching exists to forgive. */
export function misspell(word: string, random: () => number): string {
  const at = 1 + Math.floor(random() * (word.length - 2));
  return word.slice(0, at) + word.slice(at + 1);
}

/** The value at quantile `p` (0..1) of some samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}
