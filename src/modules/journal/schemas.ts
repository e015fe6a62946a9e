import { type Static, Type } from "typebox";
import { Label, Nullable, StrictObject, StringEnum, Uuid } from "../../platform/schemas.ts";
import { EMOTIONS, type Emotion, SENTIMENT_LABELS } from "./tables.ts";

/**
 * The journal module's resources as the API shows them, declared once: the
 * routes answer with these, the OpenAPI document is made from them, and the
 * services' view types derive from them.
 */

/** An entry's text: not blank, at most 100,000 characters (a long day, not a book). */
export const EntryContent = Type.String({ minLength: 1, maxLength: 100_000, pattern: "\\S" });
/** A calendar date, YYYY-MM-DD (checked to exist: February 30th is refused). */
export const EntryDate = Type.String({ format: "date", description: "A calendar date, YYYY-MM-DD." });
export const MoodScore = Type.Number({
  minimum: -1,
  maximum: 1,
  description: "-1 (worst) to 1 (best), kept to two decimals.",
});

export const Sentiment = Type.Object({
  model: Type.String({ description: "The model that scored it, e.g. `vader-lexicon-1.1.3`." }),
  label: StringEnum(SENTIMENT_LABELS),
  confidence: Type.Number({ minimum: 0, maximum: 1 }),
  compound: Type.Number({ minimum: -1, maximum: 1 }),
  emotions: Type.Object(
    Object.fromEntries(EMOTIONS.map((e) => [e, Type.Number({ minimum: 0, maximum: 1 })])) as Record<
      Emotion,
      ReturnType<typeof Type.Number>
    >,
    { description: "The share of the entry's emotion words for each emotion (all 0 when it has none)." },
  ),
  stale: Type.Boolean({ description: "True when the entry changed after this analysis; a new one is on its way." }),
  analyzedAt: Type.String(),
});

export const EntryTopic = Type.Object({
  id: Uuid,
  name: Type.String(),
  relevance: Type.Number({ minimum: 0, maximum: 1 }),
  addedBy: StringEnum(["user", "analysis"]),
});

export const Entry = Type.Object({
  id: Uuid,
  title: Nullable(Type.String()),
  content: Type.String(),
  entryDate: Type.String(),
  moodScore: Nullable(Type.Number()),
  moodOrigin: Nullable(StringEnum(["user", "analysis"])),
  wordCount: Type.Integer(),
  sentiment: Type.Array(Sentiment),
  topics: Type.Array(EntryTopic),
  owner: Type.Object({ kind: StringEnum(["user", "anonymous"]) }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type EntryView = Static<typeof Entry>;

/** What a write answers: the entry, and the analysis task it queued (null when nothing analyzable changed). */
export const WrittenEntry = Type.Intersect([
  Entry,
  Type.Object({ analysisTaskId: Nullable(Type.String({ description: "Follow it at /v1/journal/tasks/{id}." })) }),
]);
export type WrittenEntryView = Static<typeof WrittenEntry>;

export const NewEntry = StrictObject({
  title: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  content: EntryContent,
  entryDate: Type.Optional(EntryDate),
  moodScore: Type.Optional(MoodScore),
  topicIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
});
export type NewEntryInput = Static<typeof NewEntry>;

export const EntryPatch = StrictObject({
  title: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  content: Type.Optional(EntryContent),
  entryDate: Type.Optional(EntryDate),
  moodScore: Type.Optional(Nullable(MoodScore)),
  topicIds: Type.Optional(Type.Array(Uuid, { maxItems: 20 })),
});
export type EntryPatchInput = Static<typeof EntryPatch>;

export const Topic = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  isSystemTopic: Type.Boolean(),
  entryCount: Type.Integer({ description: "The caller's entries linked to it." }),
  similarity: Type.Optional(Type.Number({ description: "With `?match=`: trigram similarity to it." })),
  createdAt: Type.String(),
});
export type TopicView = Static<typeof Topic>;

export const NewTopic = StrictObject({
  name: Label(200),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
});

export const TopicSuggestion = Type.Object({
  name: Type.String(),
  entries: Type.Integer({ description: "Recent entries the word is a keyword of." }),
  closestTopic: Nullable(Type.Object({ id: Uuid, name: Type.String(), similarity: Type.Number() })),
});

export type TopicSuggestionView = Static<typeof TopicSuggestion>;

export const SearchResult = Type.Object({
  id: Uuid,
  title: Nullable(Type.String()),
  entryDate: Type.String(),
  rank: Type.Number({ description: "ts_rank_cd over the weighted vector (title A, content B)." }),
  snippet: Type.String({ description: "ts_headline passages with `<mark>` around the matched words." }),
});

export const SimilarEntry = Type.Object({
  id: Uuid,
  title: Nullable(Type.String()),
  entryDate: Type.String(),
  snippet: Type.String(),
  similarity: Type.Number({ description: "Cosine similarity of the entries' embeddings." }),
  model: Type.String(),
});

export const MoodWeek = Type.Object({
  week: Type.String({ description: "The week's Monday, YYYY-MM-DD." }),
  avgMood: Nullable(Type.Number()),
  entryCount: Type.Integer(),
  moodVariance: Nullable(Type.Number({ description: "The standard deviation of the week's moods (the seed's name)." })),
});

export const Insights = Type.Object({
  writingFrequency: Type.Object({
    entriesLast30Days: Type.Integer(),
    entriesPerWeek: Type.Number({ description: "Over the last twelve weeks." }),
    averageWords: Nullable(Type.Number()),
  }),
  moodByWeekday: Type.Array(
    Type.Object({ weekday: Type.String(), avgMood: Nullable(Type.Number()), entryCount: Type.Integer() }),
  ),
  topTopics: Type.Array(Type.Object({ id: Uuid, name: Type.String(), entryCount: Type.Integer() })),
  streaks: Type.Object({
    current: Type.Integer({ description: "Consecutive days with an entry, ending today or yesterday." }),
    longest: Type.Integer(),
  }),
  generatedAt: Type.String(),
});
export type InsightsView = Static<typeof Insights>;

export const Statistics = Type.Object({
  totalEntries: Type.Integer(),
  avgMood: Nullable(Type.Number()),
  firstEntryDate: Nullable(Type.String()),
  lastEntryDate: Nullable(Type.String()),
  activeMonths: Type.Integer(),
  refreshedAt: Nullable(
    Type.String({
      description:
        "When the statistics were computed (refreshed daily); null before the first refresh that saw an entry.",
    }),
  ),
});

export const AnalysisTask = Type.Object({
  id: Type.String(),
  status: StringEnum(["queued", "running", "succeeded", "failed", "cancelled"]),
  entryId: Uuid,
  result: Nullable(Type.Unknown({ description: "When succeeded: the sentiment, emotions, topics and mood it set." })),
  updatedAt: Type.String(),
});
export type AnalysisTaskView = Static<typeof AnalysisTask>;

// --- lists answered whole (`nextCursor` is always null: they are short, or ranked) ---------------

const wholeList = <T extends Parameters<typeof Type.Array>[0]>(item: T, description: string) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Null() }, { description });

export const SimilarEntries = wholeList(
  SimilarEntry,
  "Similar entries, most similar first (empty while the entry's vector is being made).",
);
export const FullTextResults = wholeList(SearchResult, "The best matches by weighted full text, with snippets.");
export const Topics = wholeList(Topic, "Topics: the system's, then the caller's, by name; or the closest to `match`.");
export const TopicSuggestions = wholeList(TopicSuggestion, "Suggested topics, most used first.");
export const MoodTrends = wholeList(MoodWeek, "Weeks with entries, oldest first.");
