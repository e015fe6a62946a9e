import type { StrataModule } from "../../runtime/module.ts";
import { analyzeEntry } from "./analysis.ts";
import { ANALYSIS_QUEUE } from "./analysis-tasks.ts";
import { refreshStatistics, STATISTICS_REFRESH_CRON } from "./analytics.ts";
import { journalTopic } from "./journal-changes.ts";
import { journalMigrations } from "./migrations.ts";
import { registerJournalRoutes } from "./routes.ts";
import { entryEmbeddings, entrySearch } from "./search-sources.ts";
import { topicEmbeddings } from "./topic-embeddings.ts";
import { transferJournal } from "./transfer.ts";

/** Entries one process analyzes at once. */
const ANALYSIS_CONCURRENCY = 2;

/**
 * The journal module: seed 002's journaling backend. Entries with sentiment,
 * emotions, topics and mood from a local analysis; weighted full-text,
 * fuzzy, similar-entry and hybrid search; mood trends, statistics and
 * insights. Anonymous sessions may journal; their entries follow them to
 * the account they register.
 */
export const journalModule: StrataModule = {
  name: "journal",
  migrations: journalMigrations,
  routes: registerJournalRoutes,
  ownershipTransfer: transferJournal,
  changeTopics: (platform) => [journalTopic(platform)],
  search: { embeddings: [entryEmbeddings, topicEmbeddings], sources: [entrySearch] },
  startWorkers(platform) {
    const stops = [
      platform.jobs.work(ANALYSIS_QUEUE, (context) => analyzeEntry(platform, context), {
        concurrency: ANALYSIS_CONCURRENCY,
      }),
      platform.jobs.recurring("journal.refresh_statistics", STATISTICS_REFRESH_CRON, () => refreshStatistics(platform)),
    ];
    return async () => {
      for (const stop of stops.reverse()) await stop();
    };
  },
};
