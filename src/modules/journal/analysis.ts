import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { textSha256 } from "../../platform/embeddings/vector-store.ts";
import type { JobContext } from "../../platform/jobs/jobs.ts";
import type { Platform } from "../../runtime/platform.ts";
import { setTaskResults, setTaskStatus } from "./analysis-tasks.ts";
import { forgetCachesOf, SENTIMENT_TTL_MS, sentimentKey } from "./caches.ts";
import { textAnalysisTask } from "./compute-tasks.ts";
import { entryText } from "./entry-text.ts";
import { recordAnalysis } from "./journal-changes.ts";
import { llmSentimentOf } from "./llm-sentiment.ts";
import type { Emotion, SentimentLabel } from "./tables.ts";
import { SENTIMENT_MODEL, type TextAnalysis } from "./text-analysis.ts";
import { TOPIC_SOURCE, topicsByMeaning, topicText } from "./topic-embeddings.ts";

type Db = Kysely<Tables>;

/** A keyword names an existing topic when their trigram similarity reaches this (the seed's fuzzy threshold). */
export const TOPIC_MATCH_THRESHOLD = 0.3;
/** A keyword with no close topic becomes a new topic of the writer's when it occurs at least this often. */
const NEW_TOPIC_MIN_COUNT = 2;
/** Topics one analysis links at most. */
const MAX_TOPICS = 5;

/** Keywords (most frequent first) looked up by meaning when trigrams find no topic. */
const KEYWORDS_CONSIDERED = 10;

/** What a finished analysis reports (`tasks:results:{task_id}`). */
export interface AnalysisResult {
  entryId: string;
  sentiment: { model: string; label: string; confidence: number; compound: number };
  emotions: TextAnalysis["emotions"];
  topics: { id: string; name: string; relevance: number; created: boolean }[];
  moodScore: number | null;
  moodSetByAnalysis: boolean;
  /** The configured language model's second opinion, when one is configured and answered. */
  secondOpinion: { model: string; label: string; confidence: number; score: number } | null;
}

/**
 * The analysis job of one entry: sentiment by the local lexicon model
 * (cached by text for a day), emotions, topics from keywords (matched to the
 * writer's and the system's topics by trigram similarity, new ones created
 * when a repeated keyword matches none), and the mood when the writer gave
 * none. The text is analyzed outside any transaction; the results are
 * written in one that locks the entry and checks it still has that text: an
 * entry edited meanwhile keeps its newer job's results, and an entry deleted
 * meanwhile gets nothing (not even the topics the analysis would create).
 * The entry's embedding is the outbox's, queued by the same save. With a
 * language model configured (AI_BASE_URL), its reading is a second
 * sentiment row under its model's name (llm-sentiment.ts).
 */
export async function analyzeEntry(platform: Platform, context: JobContext): Promise<void> {
  const { job } = context;
  const entryId = (job.payload as { entryId: string }).entryId;
  const db = platform.database.db;
  const entry = await db
    .selectFrom("journal_entries")
    .select(["id", "title", "content", "user_id", "anonymous_session_id", "organization_id"])
    .where("id", "=", entryId)
    .executeTakeFirst();
  if (!entry) {
    await setTaskStatus(platform, job.id, entryId, "cancelled");
    return;
  }
  await setTaskStatus(platform, job.id, entryId, "running");
  const text = entryText(entry.title, entry.content);
  const digest = textSha256(text);
  const analysis = await sentimentOf(platform, text, digest);
  const llm = await llmSentimentOf(platform, text, digest, context.signal);
  const ownerColumn = entry.user_id ? ("user_id" as const) : ("anonymous_session_id" as const);
  const ownerId = (entry.user_id ?? entry.anonymous_session_id) as string;
  // Outside the transaction: embedding the keywords may take a model's time.
  const byMeaning = await topicsByMeaning(
    platform,
    db,
    { column: ownerColumn, id: ownerId },
    analysis.keywords.slice(0, KEYWORDS_CONSIDERED).map((k) => k.word),
  );

  const result = await transaction(db, async (trx): Promise<AnalysisResult | null> => {
    const current = await trx
      .selectFrom("journal_entries")
      .select(["title", "content", "mood_origin", "mood_score"])
      .where("id", "=", entryId)
      .forUpdate()
      .executeTakeFirst();
    if (!current || entryText(current.title, current.content) !== text) {
      // Deleted, or edited since: this job's results would be stale. The edit's own job writes.
      await context.complete(trx);
      return null;
    }
    await writeSentiment(trx, entryId, digest, {
      model: SENTIMENT_MODEL,
      label: analysis.label,
      confidence: analysis.confidence,
      score: analysis.compound,
      emotions: analysis.emotions,
    });
    if (llm) await writeSentiment(trx, entryId, digest, llm);
    const topics = await linkKeywordTopics(platform, trx, entryId, ownerColumn, ownerId, analysis.keywords, byMeaning);
    const setMood = current.mood_origin !== "user";
    if (setMood) {
      await trx
        .updateTable("journal_entries")
        .set({ mood_score: analysis.compound.toFixed(2), mood_origin: "analysis" })
        .where("id", "=", entryId)
        .execute();
    }
    const done: AnalysisResult = {
      entryId,
      sentiment: {
        model: SENTIMENT_MODEL,
        label: analysis.label,
        confidence: analysis.confidence,
        compound: analysis.compound,
      },
      emotions: analysis.emotions,
      topics,
      moodScore: setMood
        ? Number(analysis.compound.toFixed(2))
        : current.mood_score === null
          ? null
          : Number(current.mood_score),
      moodSetByAnalysis: setMood,
      secondOpinion: llm ? { model: llm.model, label: llm.label, confidence: llm.confidence, score: llm.score } : null,
    };
    await recordAnalysis(platform, trx, { organizationId: entry.organization_id, ownerId }, done);
    await context.complete(trx);
    return done;
  });
  if (!result) {
    await setTaskStatus(platform, job.id, entryId, "cancelled");
    return;
  }
  await setTaskResults(platform, job.id, result);
  await setTaskStatus(platform, job.id, entryId, "succeeded");
  await forgetCachesOf(platform, ownerId);
}

/** One model's reading of the entry's text: its row, replacing the model's reading of an older text. */
async function writeSentiment(
  trx: Db,
  entryId: string,
  digest: string,
  reading: {
    model: string;
    label: SentimentLabel;
    confidence: number;
    score: number;
    emotions: Record<Emotion, number>;
  },
) {
  await trx
    .insertInto("sentiment_analysis")
    .values({
      entry_id: entryId,
      model_name: reading.model,
      sentiment_label: reading.label,
      confidence_score: reading.confidence,
      compound_score: reading.score,
      emotions: JSON.stringify(reading.emotions),
      text_sha256: digest,
    })
    .onConflict((oc) =>
      oc.columns(["entry_id", "model_name"]).doUpdateSet((eb) => ({
        sentiment_label: eb.ref("excluded.sentiment_label"),
        confidence_score: eb.ref("excluded.confidence_score"),
        compound_score: eb.ref("excluded.compound_score"),
        emotions: eb.ref("excluded.emotions"),
        text_sha256: eb.ref("excluded.text_sha256"),
        analyzed_at: sql`now()`,
      })),
    )
    .execute();
}

/** VADER's reading of a text, from `models:sentiment:{text_hash}` when it was read in the last day. */
async function sentimentOf(platform: Platform, text: string, digest: string): Promise<TextAnalysis> {
  // The hash covers the model as well, so another model's reading of the text is never taken for this one's.
  const key = sentimentKey(textSha256(`${SENTIMENT_MODEL}\n${digest}`));
  const cached = await platform.kv.get(key).catch(() => null);
  if (cached) return JSON.parse(cached) as TextAnalysis;
  const analysis = await platform.compute.run(textAnalysisTask, text);
  await platform.kv.set(key, JSON.stringify(analysis), { ttlMs: SENTIMENT_TTL_MS }).catch(() => {});
  return analysis;
}

/**
 * Replaces the analysis's topic links of the entry (the writer's own stay):
 * each keyword goes to the closest of the owner's and the system's topics
 * when one is similar enough by trigrams, else to the one closest by
 * meaning (`byMeaning`, the topics' vectors), or becomes a new topic of the
 * owner's when it recurs in the entry (queued for its own vector);
 * relevance is the keyword's count over the top one's.
 */
async function linkKeywordTopics(
  platform: Platform,
  trx: Db,
  entryId: string,
  ownerColumn: "user_id" | "anonymous_session_id",
  ownerId: string,
  keywords: TextAnalysis["keywords"],
  byMeaning: ReadonlyMap<string, { id: string; name: string }>,
): Promise<AnalysisResult["topics"]> {
  await trx.deleteFrom("entry_topics").where("entry_id", "=", entryId).where("added_by", "=", "analysis").execute();
  const top = keywords[0]?.count ?? 1;
  const linked = new Map<string, AnalysisResult["topics"][number]>();
  for (const { word, count } of keywords) {
    if (linked.size >= MAX_TOPICS) break;
    // The name's similarity, or a word of the description (a system topic lists its usual words).
    const score = sql<number>`greatest(similarity(lower(name), ${word}), word_similarity(${word}, lower(coalesce(description, ''))))`;
    const match = await trx
      .selectFrom("topics")
      .select(["id", "name", score.as("sim")])
      .where((eb) => eb.or([eb("is_system_topic", "=", true), eb(ownerColumn, "=", ownerId)]))
      .where(score, ">=", TOPIC_MATCH_THRESHOLD)
      .orderBy("sim", "desc")
      .limit(1)
      .executeTakeFirst();
    const meant = byMeaning.get(word);
    let topic: { id: string; name: string; created: boolean } | null = match
      ? { id: match.id, name: match.name, created: false }
      : meant
        ? { ...meant, created: false }
        : null;
    if (!topic && count >= NEW_TOPIC_MIN_COUNT) {
      const made = await trx
        .insertInto("topics")
        .values({ name: word, [ownerColumn]: ownerId, description: null })
        .onConflict((oc) => oc.doNothing())
        .returning(["id", "name"])
        .executeTakeFirst();
      topic = made ? { ...made, created: true } : null;
      if (made) await platform.vectors.queue(trx, TOPIC_SOURCE, [{ id: made.id, text: topicText(made.name, null) }]);
    }
    if (!topic || linked.has(topic.id)) continue;
    const relevance = Math.max(0.01, Math.round((count / top) * 100) / 100);
    linked.set(topic.id, { ...topic, relevance });
  }
  if (linked.size > 0) {
    await trx
      .insertInto("entry_topics")
      .values([...linked.values()].map((t) => ({ entry_id: entryId, topic_id: t.id, relevance_score: t.relevance })))
      // The writer's link to the same topic stays theirs.
      .onConflict((oc) => oc.columns(["entry_id", "topic_id"]).doNothing())
      .execute();
  }
  return [...linked.values()];
}
