import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requirePrincipal } from "../../http/principal.ts";
import { Label, listQuery, pageOf, StringEnum, Uuid } from "../../platform/schemas.ts";
import { SearchResults } from "../../platform/search/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { getTask } from "./analysis-tasks.ts";
import { insights, moodTrends, statistics } from "./analytics.ts";
import { createEntry, deleteEntry, getEntry, updateEntry } from "./entries.ts";
import { listEntries } from "./entry-list.ts";
import {
  AnalysisTask,
  Entry,
  EntryDate,
  EntryPatch,
  FullTextResults,
  Insights,
  MoodScore,
  MoodTrends,
  NewEntry,
  NewTopic,
  SimilarEntries,
  Statistics,
  Topic,
  TopicSuggestions,
  Topics,
  WrittenEntry,
} from "./schemas.ts";
import { hybridSearchEntries, SIMILARITY_THRESHOLD, searchEntries, similarEntries } from "./search.ts";
import { createTopic, listTopics, topicSuggestions } from "./topics.ts";

const tags = ["journal"];
const EntryParams = Type.Object({ entryId: Uuid });
const Query = Label(500, { description: 'Words to look for; a "quoted phrase" and -excluded words work too.' });

/** The journal module's HTTP API (seed 002), under /v1/journal. Anonymous sessions may use all of it. */
export function registerJournalRoutes(app: App, platform: Platform) {
  app.post(
    "/journal/entries",
    {
      schema: {
        tags,
        operationId: "createJournalEntry",
        summary: "Write an entry; its analysis and embedding are queued with it",
        security: BEARER,
        body: NewEntry,
        response: {
          201: described(WrittenEntry, "The entry, and the analysis task it queued."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "topic_not_found"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createEntry(platform, requirePrincipal(request), request.body)),
  );

  app.get(
    "/journal/entries",
    {
      schema: {
        tags,
        operationId: "listJournalEntries",
        summary: "The caller's entries, newest first, filtered by date range, topic and mood",
        security: BEARER,
        querystring: listQuery(
          {
            from: Type.Optional(EntryDate),
            to: Type.Optional(EntryDate),
            topicId: Type.Optional(Uuid),
            moodMin: Type.Optional(MoodScore),
            moodMax: Type.Optional(MoodScore),
          },
          { defaultLimit: 20 },
        ),
        response: {
          200: described(pageOf(Entry), "A page of entries."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => listEntries(platform, requirePrincipal(request), request.query),
  );

  app.get(
    "/journal/entries/:entryId",
    {
      schema: {
        tags,
        operationId: "getJournalEntry",
        summary: "An entry with its sentiment analyses and topics",
        security: BEARER,
        params: EntryParams,
        response: {
          200: described(Entry, "The entry."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "journal_entry_not_found"),
        },
      },
    },
    async (request) => getEntry(platform, requirePrincipal(request), request.params.entryId),
  );

  app.patch(
    "/journal/entries/:entryId",
    {
      schema: {
        tags,
        operationId: "updateJournalEntry",
        summary: "Change an entry; a new text is analyzed and embedded again",
        security: BEARER,
        params: EntryParams,
        body: EntryPatch,
        response: {
          200: described(
            WrittenEntry,
            "The entry as it now is, and the analysis task the change queued (null if none).",
          ),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "journal_entry_not_found",
            "topic_not_found",
          ),
        },
      },
    },
    async (request) => updateEntry(platform, requirePrincipal(request), request.params.entryId, request.body),
  );

  app.delete(
    "/journal/entries/:entryId",
    {
      schema: {
        tags,
        operationId: "deleteJournalEntry",
        summary: "Delete an entry with its analyses, topic links and vectors",
        security: BEARER,
        params: EntryParams,
        response: {
          204: Type.Null({ description: "Deleted." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "journal_entry_not_found"),
        },
      },
    },
    async (request, reply) => {
      await deleteEntry(platform, requirePrincipal(request), request.params.entryId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/journal/entries/:entryId/similar",
    {
      schema: {
        tags,
        operationId: "listSimilarJournalEntries",
        summary: "The caller's entries nearest this one by meaning (embeddings)",
        security: BEARER,
        params: EntryParams,
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 10 }),
            minSimilarity: Type.Number({ minimum: -1, maximum: 1, default: SIMILARITY_THRESHOLD }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: SimilarEntries,
          ...errorResponses(
            ...READ_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "journal_entry_not_found",
            "pgvector_not_installed",
          ),
        },
      },
    },
    async (request) => {
      const { items } = await similarEntries(
        platform,
        requirePrincipal(request),
        request.params.entryId,
        request.query,
      );
      return { items, nextCursor: null };
    },
  );

  app.get(
    "/journal/search",
    {
      schema: {
        tags,
        operationId: "searchJournal",
        summary: "Search the caller's entries: hybrid (words, spelling and meaning) or full text with snippets",
        security: BEARER,
        querystring: Type.Object(
          {
            q: Query,
            mode: Type.Optional(
              StringEnum(["hybrid", "fulltext"], {
                description:
                  "`hybrid` (default): full text, trigram and vector fused; `fulltext`: seed 002's weighted query.",
              }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: described(
            Type.Union([SearchResults, FullTextResults]),
            "Hybrid results, or full-text results with `mode=fulltext`.",
          ),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { q, mode, limit } = request.query;
      if (mode === "fulltext") return { items: await searchEntries(platform, principal, q, limit), nextCursor: null };
      const result = await hybridSearchEntries(platform, principal, q, limit);
      return { items: result.items, nextCursor: null, vector: result.vector };
    },
  );

  app.get(
    "/journal/topics",
    {
      schema: {
        tags,
        operationId: "listJournalTopics",
        summary: "The system's topics and the caller's, or the closest to `match` by trigram similarity",
        security: BEARER,
        querystring: Type.Object(
          { match: Type.Optional(Label(200, { description: "Fuzzy: the ten topics whose names are most alike." })) },
          { additionalProperties: false },
        ),
        response: {
          200: Topics,
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => ({
      items: await listTopics(platform, requirePrincipal(request), request.query.match),
      nextCursor: null,
    }),
  );

  app.post(
    "/journal/topics",
    {
      schema: {
        tags,
        operationId: "createJournalTopic",
        summary: "A topic of the caller's own",
        security: BEARER,
        body: NewTopic,
        response: {
          201: described(Topic, "The new topic."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "topic_name_taken"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createTopic(platform, requirePrincipal(request), request.body)),
  );

  app.get(
    "/journal/topics/suggestions",
    {
      schema: {
        tags,
        operationId: "listJournalTopicSuggestions",
        summary: "Keywords of the caller's recent entries that are not topics yet",
        security: BEARER,
        response: {
          200: TopicSuggestions,
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER),
        },
      },
    },
    async (request) => ({ items: await topicSuggestions(platform, requirePrincipal(request)), nextCursor: null }),
  );

  app.get(
    "/journal/mood-trends",
    {
      schema: {
        tags,
        operationId: "getJournalMoodTrends",
        summary: "Weekly mood over the last six months",
        security: BEARER,
        response: {
          200: MoodTrends,
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER),
        },
      },
    },
    async (request) => ({ items: await moodTrends(platform, requirePrincipal(request)), nextCursor: null }),
  );

  app.get(
    "/journal/insights",
    {
      schema: {
        tags,
        operationId: "getJournalInsights",
        summary: "Writing frequency, mood by weekday, top topics and streaks (cached six hours)",
        security: BEARER,
        response: {
          200: described(Insights, "The caller's insights."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER),
        },
      },
    },
    async (request) => insights(platform, requirePrincipal(request)),
  );

  app.get(
    "/journal/statistics",
    {
      schema: {
        tags,
        operationId: "getJournalStatistics",
        summary: "Totals from the statistics view (refreshed daily)",
        security: BEARER,
        response: {
          200: described(Statistics, "The caller's statistics."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER),
        },
      },
    },
    async (request) => statistics(platform, requirePrincipal(request)),
  );

  app.get(
    "/journal/tasks/:taskId",
    {
      schema: {
        tags,
        operationId: "getJournalAnalysisTask",
        summary: "An entry analysis's status and, once done, its results",
        security: BEARER,
        params: Type.Object({ taskId: Uuid }),
        response: {
          200: described(AnalysisTask, "The task."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "journal_entry_not_found"),
        },
      },
    },
    async (request) => getTask(platform, requirePrincipal(request), request.params.taskId),
  );
}
