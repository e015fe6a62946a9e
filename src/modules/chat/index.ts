import type { StrataModule } from "../../runtime/module.ts";
import { chatMigrations } from "./migrations.ts";
import { registerChatRoutes } from "./routes.ts";
import { transferChats } from "./transfer.ts";

/**
 * The chat module: seed 003's AI chat. Chats and messages, replies streamed
 * from the configured AI provider with the history trimmed to a token
 * budget, partial replies kept and regenerated. Anonymous sessions may
 * chat; their chats follow them to the account they register.
 */
export const chatModule: StrataModule = {
  name: "chat",
  migrations: chatMigrations,
  routes: registerChatRoutes,
  ownershipTransfer: transferChats,
};
