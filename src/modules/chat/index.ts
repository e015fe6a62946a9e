import type { StrataModule } from "../../runtime/module.ts";
import { chatTopic } from "./chat-changes.ts";
import { processFile } from "./file-processing.ts";
import { registerFileRoutes } from "./file-routes.ts";
import { fileChunkEmbeddings, fileChunkSearch } from "./file-sources.ts";
import { FILE_QUEUE } from "./files.ts";
import { chatMigrations } from "./migrations.ts";
import { registerChatRoutes } from "./routes.ts";
import { transferChats } from "./transfer.ts";

/** Files one process reads at once (a PDF's extraction fills a compute thread). */
const FILE_CONCURRENCY = 1;

/**
 * The chat module: seed 003's AI chat. Chats and messages, replies streamed
 * from the configured AI provider with the history trimmed to a token
 * budget, partial replies kept and regenerated; files uploaded, read,
 * chunked and embedded for search. Anonymous sessions may
 * chat; their chats follow them to the account they register.
 */
export const chatModule: StrataModule = {
  name: "chat",
  migrations: chatMigrations,
  routes(app, platform) {
    registerChatRoutes(app, platform);
    registerFileRoutes(app, platform);
  },
  ownershipTransfer: transferChats,
  changeTopics: (platform) => [chatTopic(platform)],
  search: { embeddings: [fileChunkEmbeddings], sources: [fileChunkSearch] },
  startWorkers(platform) {
    return platform.jobs.work(FILE_QUEUE, (context) => processFile(platform, context), {
      concurrency: FILE_CONCURRENCY,
    });
  },
};
