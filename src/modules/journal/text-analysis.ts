import { eng as ENGLISH_STOP_WORDS } from "stopword";
import vader from "vader-sentiment";
import type { Emotion, SentimentLabel } from "./tables.ts";

/*
 * The journal's local text analysis: sentiment by VADER (Hutto & Gilbert
 * 2014, a lexicon and rules tuned for short informal text), emotions by word
 * lists, and keywords for topics. Worker-safe (the compute pool runs long
 * entries off the event loop): no platform imports, no state.
 */

/** Stored as sentiment_analysis.model_name: the lexicon model and the package version that carries it. */
export const SENTIMENT_MODEL = "vader-lexicon-1.1.3";

export interface TextAnalysis {
  label: SentimentLabel;
  /** The mean of the sentences' compound scores, -1..1. */
  compound: number;
  /** 0..1: how consistently the sentences agree with the label, and how strongly. */
  confidence: number;
  emotions: Record<Emotion, number>;
  /** The most frequent content words, most frequent first (at most 8). */
  keywords: { word: string; count: number }[];
}

/** VADER's conventional thresholds. */
const POSITIVE = 0.05;
const NEGATIVE = -0.05;

/**
 * Word stems per emotion. A word counts when it starts with a stem, so
 * "worr" finds worry, worried and worrying. The lists are Strata's own,
 * short and plain: emotions are a summary for the writer, not a diagnosis.
 */
const EMOTION_STEMS: Record<Emotion, readonly string[]> = {
  joy: [
    "happ",
    "joy",
    "glad",
    "delight",
    "excit",
    "wonderful",
    "great",
    "love",
    "laugh",
    "smil",
    "proud",
    "grate",
    "thank",
    "fun",
    "cheer",
  ],
  sadness: [
    "sad",
    "cry",
    "cried",
    "tear",
    "lonel",
    "miss",
    "grief",
    "griev",
    "depress",
    "down",
    "hopeless",
    "empty",
    "hurt",
    "loss",
    "lost",
  ],
  anger: [
    "angr",
    "anger",
    "mad",
    "furious",
    "annoy",
    "irritat",
    "frustrat",
    "rage",
    "resent",
    "hate",
    "unfair",
    "yell",
    "fight",
  ],
  fear: [
    "afraid",
    "fear",
    "scar",
    "anxi",
    "worr",
    "nervous",
    "panic",
    "dread",
    "terrif",
    "stress",
    "overwhelm",
    "tense",
    "uneas",
  ],
  surprise: ["surpris", "unexpect", "shock", "amaz", "astonish", "sudden", "wow", "startl"],
  calm: [
    "calm",
    "peace",
    "relax",
    "rest",
    "quiet",
    "seren",
    "content",
    "comfort",
    "gentl",
    "still",
    "breath",
    "meditat",
    "ease",
  ],
};

/** Words that fill diaries without saying what they are about. */
const DIARY_FILLER = new Set([
  "today",
  "yesterday",
  "tomorrow",
  "really",
  "just",
  "felt",
  "feel",
  "feeling",
  "feels",
  "day",
  "got",
  "get",
  "went",
  "like",
  "thing",
  "things",
  "lot",
  "bit",
  "much",
  "still",
  "even",
  "also",
  "back",
  "time",
  "think",
  "thought",
  "know",
  "going",
  "make",
  "made",
  "want",
  "wanted",
  "way",
  "good",
  "bad",
  "little",
  "kind",
  "maybe",
  "though",
  "something",
  "will",
  "would",
  "could",
  "should",
  "might",
  "must",
  "shall",
]);
const STOP = new Set([...ENGLISH_STOP_WORDS, ...DIARY_FILLER]);

export function analyzeText(text: string): TextAnalysis {
  const sentences = splitSentences(text);
  const compounds = sentences.map((s) => vader.SentimentIntensityAnalyzer.polarity_scores(s).compound);
  const compound = compounds.length > 0 ? compounds.reduce((a, b) => a + b, 0) / compounds.length : 0;
  const label = labelOf(compound);
  const agreeing = compounds.length > 0 ? compounds.filter((c) => labelOf(c) === label).length / compounds.length : 1;
  const strength = label === "neutral" ? 1 - Math.abs(compound) / POSITIVE : Math.min(1, Math.abs(compound));
  const words = text.toLowerCase().match(/[a-z][a-z']*[a-z]|[a-z]/g) ?? [];
  return {
    label,
    compound: round(compound, 4),
    confidence: round(agreeing * (0.5 + 0.5 * strength), 4),
    emotions: emotionsOf(words),
    keywords: keywordsOf(words),
  };
}

function labelOf(compound: number): SentimentLabel {
  return compound >= POSITIVE ? "positive" : compound <= NEGATIVE ? "negative" : "neutral";
}

/** Sentences, VADER's unit: split after . ! ? and at line breaks; fragments without letters dropped. */
function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => /\p{L}/u.test(s));
}

function emotionsOf(words: readonly string[]): Record<Emotion, number> {
  const hits = Object.fromEntries(Object.keys(EMOTION_STEMS).map((e) => [e, 0])) as Record<Emotion, number>;
  let total = 0;
  for (const word of words) {
    for (const [emotion, stems] of Object.entries(EMOTION_STEMS) as [Emotion, readonly string[]][]) {
      if (stems.some((stem) => word.startsWith(stem))) {
        hits[emotion]++;
        total++;
      }
    }
  }
  for (const emotion of Object.keys(hits) as Emotion[])
    hits[emotion] = total === 0 ? 0 : round(hits[emotion] / total, 4);
  return hits;
}

function keywordsOf(words: readonly string[]): { word: string; count: number }[] {
  const counts = new Map<string, { count: number; first: number }>();
  words.forEach((word, index) => {
    if (word.length < 4 || STOP.has(word) || word.includes("'")) return;
    const seen = counts.get(word);
    if (seen) seen.count++;
    else counts.set(word, { count: 1, first: index });
  });
  return [...counts.entries()]
    .sort((a, b) => b[1].count - a[1].count || a[1].first - b[1].first)
    .slice(0, 8)
    .map(([word, { count }]) => ({ word, count }));
}

function round(value: number, places: number): number {
  const scale = 10 ** places;
  return Math.round(value * scale) / scale;
}
