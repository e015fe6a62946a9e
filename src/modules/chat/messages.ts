import type { Kysely } from "kysely";
import type { ChatMessage } from "../../platform/ai/chat-client.ts";
import type { Tables } from "../../platform/database/tables.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { newestFirstPage, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { isFirstPage, recentMessagesKey } from "./caches.ts";
import { getChat } from "./chats.ts";
import type { MessageView } from "./schemas.ts";
import type { Citation, MessagesTable } from "./tables.ts";

type Db = Kysely<Tables>;

export const MESSAGE_COLUMNS = [
  "id",
  "chat_id",
  "role",
  "content",
  "status",
  "model",
  "prompt_tokens",
  "completion_tokens",
  "error_code",
  "reply_to",
  "citations",
  "created_at",
] as const;

type MessageRow = Omit<MessagesTable, "id" | "status" | "created_at" | "citations"> & {
  citations: Citation[];
  id: string;
  status: MessageView["status"];
  created_at: Date;
};

/** Messages a prompt reads at most, newest first, before the token budget trims them. */
const HISTORY_ROWS = 200;

export function messageView(row: MessageRow): MessageView {
  return {
    id: row.id,
    chatId: row.chat_id,
    role: row.role,
    content: row.content,
    status: row.status,
    model: row.model,
    promptTokens: row.prompt_tokens,
    completionTokens: row.completion_tokens,
    errorCode: row.error_code,
    replyTo: row.reply_to,
    citations: row.citations ?? [],
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/** A chat's messages, newest first, paging backwards through the conversation by cursor. */
export async function listMessages(
  platform: Platform,
  principal: Principal,
  chatId: string,
  options: { limit: number; cursor?: string | undefined },
): Promise<Page<MessageView>> {
  const chat = await getChat(platform, principal, chatId, platform.database.read);
  const cache = platform.caches.ns("cache");
  const key = isFirstPage(options) ? recentMessagesKey(chat.id) : null;
  const cached = key ? await cache.get<Page<MessageView>>(key) : undefined;
  if (cached) return cached;
  const query = platform.database.read.selectFrom("messages").select(MESSAGE_COLUMNS).where("chat_id", "=", chat.id);
  const page = await newestFirstPage(query, options, messageView);
  if (key) await cache.set(key, page);
  return page;
}

/**
 * The conversation a reply continues, oldest first, ending with `upTo` (the
 * user message to answer): failed replies are left out (they said
 * nothing), cut-short ones kept (their text was shown), and replies already
 * given to `upTo` too (a regeneration answers afresh).
 */
export async function historyUpTo(
  db: Db,
  chatId: string,
  upTo: { id: string; created_at: Date },
): Promise<ChatMessage[]> {
  const rows = await db
    .selectFrom("messages")
    .select(["id", "role", "content", "status", "reply_to", "created_at"])
    .where("chat_id", "=", chatId)
    .where("created_at", "<=", upTo.created_at)
    .where("status", "!=", "failed")
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(HISTORY_ROWS)
    .execute();
  return rows
    .filter((r) => r.reply_to !== upTo.id)
    .reverse()
    .map((r) => ({ role: r.role, content: r.content }));
}
