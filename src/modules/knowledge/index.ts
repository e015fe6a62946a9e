import type { StrataModule } from "../../runtime/module.ts";
import { ARCHIVE_SCHEDULE, archiveInactiveEntries } from "./archive.ts";
import { knowledgeTopic } from "./knowledge-changes.ts";
import { COPY_CHECK_SCHEDULE, publishCatalogVersion } from "./knowledge-copy.ts";
import { knowledgeMigrations } from "./migrations.ts";
import { registerKnowledgeRoutes } from "./routes.ts";
import { knowledgeEmbeddings, knowledgeSearch } from "./search-sources.ts";
import { loadStarterData } from "./starter-data.ts";

/**
 * The knowledge module: seed 004's development knowledge base. Rules,
 * practices and templates, the system's (loaded by `strata seed`) and each
 * organization's own, written by its admins; filtered, searched by words
 * and meaning, templates filled and counted; entries inactive for two
 * years archived.
 */
export const knowledgeModule: StrataModule = {
  name: "knowledge",
  migrations: knowledgeMigrations,
  routes: registerKnowledgeRoutes,
  search: { embeddings: knowledgeEmbeddings, sources: knowledgeSearch },
  seed: loadStarterData,
  changeTopics: (platform) => [knowledgeTopic(platform)],
  startWorkers(platform) {
    const stops = [
      platform.jobs.recurring("knowledge.archive", ARCHIVE_SCHEDULE, () => archiveInactiveEntries(platform)),
      // Every process's local copy checks itself against this; a missed slot needs no catching up.
      platform.jobs.recurring("knowledge.copy_check", COPY_CHECK_SCHEDULE, () => publishCatalogVersion(platform), {
        catchUpMs: 30_000,
      }),
    ];
    return async () => {
      for (const stop of stops) await stop();
    };
  },
};
