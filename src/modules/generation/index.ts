import type { StrataModule } from "../../runtime/module.ts";
import { contextTopic } from "./context-changes.ts";
import { startContextWorkers } from "./context-workers.ts";
import { generationMigrations } from "./migrations.ts";
import { registerGenerationRoutes } from "./routes.ts";

/**
 * The generation module: seed 001's generative-content service. Templates,
 * components and pipelines an organization defines, and the contexts (alone
 * or in batches) that workers run through them, within the organization's
 * limits, and its API under /v1/generation. Workers follow.
 */
export const generationModule: StrataModule = {
  name: "generation",
  migrations: generationMigrations,
  routes: registerGenerationRoutes,
  changeTopics: (platform) => [contextTopic(platform)],
  startWorkers(platform, options) {
    return startContextWorkers(platform, options.concurrency ?? platform.config.generation.workerConcurrency);
  },
};
