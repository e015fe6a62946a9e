import type { ColumnType, Generated } from "kysely";
import type { Json, Timestamp } from "../../platform/database/column-types.ts";

/** The journal module's tables (seed 002), migrations 300-399. */

/** Who set an entry's mood: the writer, or the analysis (which an edit may then replace). */
export const MOOD_ORIGINS = ["user", "analysis"] as const;
export type MoodOrigin = (typeof MOOD_ORIGINS)[number];

/** VADER's labels, by its conventional compound thresholds (±0.05). */
export const SENTIMENT_LABELS = ["positive", "neutral", "negative"] as const;
export type SentimentLabel = (typeof SENTIMENT_LABELS)[number];

/** The emotions the analysis scores, each 0..1. */
export const EMOTIONS = ["joy", "sadness", "anger", "fear", "surprise", "calm"] as const;
export type Emotion = (typeof EMOTIONS)[number];

export const INSIGHT_TYPES = ["writing_frequency", "mood_by_weekday", "top_topics", "streaks"] as const;
export type InsightType = (typeof INSIGHT_TYPES)[number];

/** numeric columns arrive as strings from both drivers. */
type Numeric = ColumnType<string, number | string, number | string>;
type NullableNumeric = ColumnType<string | null, number | string | null | undefined, number | string | null>;

export interface JournalEntriesTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  title: string | null;
  content: string;
  entry_date: ColumnType<string, string, string>;
  mood_score: NullableNumeric;
  mood_origin: ColumnType<MoodOrigin | null, MoodOrigin | null | undefined, MoodOrigin | null>;
  /** Generated: words in the content. */
  word_count: ColumnType<number, never, never>;
  /** Generated: title (weight A) and content (weight B). */
  content_vector: ColumnType<string, never, never>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SentimentAnalysisTable {
  id: Generated<string>;
  entry_id: string;
  model_name: string;
  sentiment_label: SentimentLabel;
  confidence_score: Numeric;
  /** VADER's compound score, -1..1. */
  compound_score: Numeric;
  emotions: Json<Record<Emotion, number>>;
  /** SHA-256 of the text analyzed: a stale row is one whose digest is not the entry's. */
  text_sha256: string;
  analyzed_at: Timestamp;
}

export interface TopicsTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  /** Null for a system topic (and for a visitor's). */
  user_id: string | null;
  anonymous_session_id: string | null;
  is_system_topic: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
}

export interface EntryTopicsTable {
  entry_id: string;
  topic_id: string;
  relevance_score: ColumnType<string, number | string | undefined, number | string>;
  added_by: ColumnType<"user" | "analysis", "user" | "analysis" | undefined, "user" | "analysis">;
  added_at: Timestamp;
}

export interface PsychologyInsightsTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  insight_type: InsightType;
  insight_data: Json<unknown>;
  confidence_level: NullableNumeric;
  generated_at: Timestamp;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface UserStatisticsView {
  owner_id: string;
  user_id: string | null;
  anonymous_session_id: string | null;
  total_entries: string;
  avg_mood: string | null;
  first_entry_date: string;
  last_entry_date: string;
  active_months: string;
  refreshed_at: Date;
}

/**
 * Every lexeme (stemmed word) any entry's content_vector has held, with no
 * owner: the vocabulary typo-tolerant search corrects a query's words
 * against by trigram similarity (search-sources.ts), the pattern pg_trgm's
 * documentation gives for text search. Owner-free, so it never moves on
 * registration; the corrected words only ever search the caller's entries.
 */
export interface JournalLexemesTable {
  lexeme: string;
}

declare module "../../platform/database/tables.ts" {
  interface Tables {
    journal_entries: JournalEntriesTable;
    sentiment_analysis: SentimentAnalysisTable;
    topics: TopicsTable;
    entry_topics: EntryTopicsTable;
    psychology_insights: PsychologyInsightsTable;
    journal_lexemes: JournalLexemesTable;
    user_statistics: UserStatisticsView;
  }
}
