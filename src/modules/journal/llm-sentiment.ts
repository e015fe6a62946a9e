import { completeWithinBudget } from "../../platform/ai/budgeted-completion.ts";
import { textSha256 } from "../../platform/embeddings/vector-store.ts";
import type { Platform } from "../../runtime/platform.ts";
import { SENTIMENT_TTL_MS, sentimentKey } from "./caches.ts";
import { EMOTIONS, type Emotion, SENTIMENT_LABELS, type SentimentLabel } from "./tables.ts";

/** A language model's reading of an entry: the second sentiment row beside VADER's. */
export interface LlmSentiment {
  model: string;
  label: SentimentLabel;
  /** -1 (most negative) .. 1 (most positive), stored where VADER stores its compound score. */
  score: number;
  confidence: number;
  emotions: Record<Emotion, number>;
}

/** The entry's first characters the model reads: enough for its tone, bounded in tokens. */
const MAX_TEXT_CHARS = 6_000;
/** The reply is a small JSON object. */
const MAX_REPLY_TOKENS = 200;

const INSTRUCTIONS = `You rate the sentiment of one personal journal entry.
Answer with a single JSON object and nothing else, of this shape:
{"label": "positive" | "neutral" | "negative", "score": number from -1 (most negative) to 1 (most positive),
 "confidence": number from 0 to 1, "emotions": {${EMOTIONS.map((e) => `"${e}": 0..1`).join(", ")}}}`;

/**
 * The configured language model's sentiment of an entry (AI_BASE_URL), paced
 * by the shared AI budget, cached by text like VADER's
 * (`models:sentiment:*`, a day; the key covers the model). Null when no
 * provider is configured, when it cannot be reached or stays busy, or when
 * its answer is not the JSON asked for: the lexicon model's row is the
 * analysis, this one a second opinion that never holds it up.
 */
export async function llmSentimentOf(
  platform: Platform,
  text: string,
  digest: string,
  signal?: AbortSignal,
): Promise<LlmSentiment | null> {
  const { chat, aiBudget } = platform;
  if (!chat || !aiBudget) return null;
  const key = sentimentKey(textSha256(`${chat.model}\n${digest}`));
  const cached = await platform.kv.get(key).catch(() => null);
  if (cached) return JSON.parse(cached) as LlmSentiment;
  let reply: string;
  try {
    const result = await completeWithinBudget(
      { chat, budget: aiBudget },
      {
        messages: [
          { role: "system", content: INSTRUCTIONS },
          { role: "user", content: text.slice(0, MAX_TEXT_CHARS) },
        ],
        temperature: 0,
        maxTokens: MAX_REPLY_TOKENS,
      },
      { signal, busyWaits: 1, failureRetries: 1 },
    );
    reply = result.content;
  } catch (error) {
    if (signal?.aborted) throw error;
    platform.logger.warn({ err: error }, "the language model's sentiment is skipped: the provider did not answer");
    return null;
  }
  const reading = parseReading(chat.model, reply);
  if (!reading) {
    platform.logger.warn(
      { model: chat.model },
      "the language model's sentiment is skipped: its answer was not the JSON asked for",
    );
    return null;
  }
  await platform.kv.set(key, JSON.stringify(reading), { ttlMs: SENTIMENT_TTL_MS }).catch(() => {});
  return reading;
}

/** The reply's JSON object (models often wrap it in prose or a code fence), checked and clamped; null if unusable. */
export function parseReading(model: string, reply: string): LlmSentiment | null {
  const start = reply.indexOf("{");
  const end = reply.lastIndexOf("}");
  if (start < 0 || end <= start) return null;
  let value: { label?: unknown; score?: unknown; confidence?: unknown; emotions?: unknown };
  try {
    value = JSON.parse(reply.slice(start, end + 1));
  } catch {
    return null;
  }
  const label = typeof value.label === "string" ? value.label.toLowerCase() : "";
  if (!(SENTIMENT_LABELS as readonly string[]).includes(label)) return null;
  const score = Number(value.score);
  const confidence = Number(value.confidence);
  if (!Number.isFinite(score) || !Number.isFinite(confidence)) return null;
  const given = (typeof value.emotions === "object" && value.emotions !== null ? value.emotions : {}) as Record<
    string,
    unknown
  >;
  const emotions = Object.fromEntries(
    EMOTIONS.map((e) => [e, round(clamp(Number.isFinite(Number(given[e])) ? Number(given[e]) : 0, 0, 1))]),
  ) as Record<Emotion, number>;
  return {
    model,
    label: label as SentimentLabel,
    score: round(clamp(score, -1, 1)),
    confidence: round(clamp(confidence, 0, 1)),
    emotions,
  };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Four decimals: the columns' scale. */
function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
