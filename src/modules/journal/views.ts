import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { entryTextSha256 } from "./entry-text.ts";
import type { EntryView } from "./schemas.ts";
import type { Emotion, SentimentLabel } from "./tables.ts";

/** Entries as the API shows them, with their analyses and topics, in the order of `ids`. */
export async function loadEntryViews(db: Kysely<Tables>, ids: readonly string[]): Promise<EntryView[]> {
  if (ids.length === 0) return [];
  const [entries, sentiments, topics] = await Promise.all([
    db
      .selectFrom("journal_entries")
      .select([
        "id",
        "title",
        "content",
        sql<string>`entry_date::text`.as("entry_date"),
        "mood_score",
        "mood_origin",
        "word_count",
        "user_id",
        "created_at",
        "updated_at",
      ])
      .where("id", "in", ids)
      .execute(),
    db
      .selectFrom("sentiment_analysis")
      .select([
        "entry_id",
        "model_name",
        "sentiment_label",
        "confidence_score",
        "compound_score",
        "emotions",
        "text_sha256",
        "analyzed_at",
      ])
      .where("entry_id", "in", ids)
      .orderBy("model_name")
      .execute(),
    db
      .selectFrom("entry_topics as et")
      .innerJoin("topics as t", "t.id", "et.topic_id")
      .select(["et.entry_id", "t.id", "t.name", "et.relevance_score", "et.added_by"])
      .where("et.entry_id", "in", ids)
      .orderBy("et.relevance_score", "desc")
      .orderBy("t.name")
      .execute(),
  ]);
  const byId = new Map(entries.map((e) => [e.id, e]));
  return ids.flatMap((id) => {
    const e = byId.get(id);
    if (!e) return [];
    const digest = entryTextSha256(e.title, e.content);
    return [
      {
        id: e.id,
        title: e.title,
        content: e.content,
        entryDate: e.entry_date,
        moodScore: e.mood_score === null ? null : Number(e.mood_score),
        moodOrigin: e.mood_origin,
        wordCount: e.word_count ?? 0,
        sentiment: sentiments
          .filter((s) => s.entry_id === id)
          .map((s) => ({
            model: s.model_name,
            label: s.sentiment_label as SentimentLabel,
            confidence: Number(s.confidence_score),
            compound: Number(s.compound_score),
            emotions: (s.emotions ?? {}) as Record<Emotion, number>,
            stale: s.text_sha256 !== digest,
            analyzedAt: new Date(s.analyzed_at).toISOString(),
          })),
        topics: topics
          .filter((t) => t.entry_id === id)
          .map((t) => ({ id: t.id, name: t.name, relevance: Number(t.relevance_score), addedBy: t.added_by })),
        owner: { kind: e.user_id ? ("user" as const) : ("anonymous" as const) },
        createdAt: new Date(e.created_at).toISOString(),
        updatedAt: new Date(e.updated_at).toISOString(),
      },
    ];
  });
}
