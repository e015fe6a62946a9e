import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import { ownerOf, type Principal } from "../../platform/identity/principal.ts";
import { decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { chatListKey, forgetChatCaches, isFirstPage, listOwnerOf } from "./caches.ts";
import type { ChatView } from "./schemas.ts";
import type { ChatsTable } from "./tables.ts";

type Db = Kysely<Tables>;
type ChatRow = Pick<ChatsTable, "title" | "user_id" | "anonymous_session_id" | "organization_id"> & {
  id: string;
  replying_until: Date | null;
  created_at: Date;
  updated_at: Date;
};

const CHAT_COLUMNS = [
  "id",
  "title",
  "user_id",
  "anonymous_session_id",
  "organization_id",
  "replying_until",
  "created_at",
  "updated_at",
] as const;

/** The chat's owner and tenant, as its caches are keyed. */
export function cacheOwner(row: Pick<ChatRow, "id" | "user_id" | "anonymous_session_id" | "organization_id">) {
  return {
    owner: (row.user_id ?? row.anonymous_session_id) as string,
    organizationId: row.organization_id,
    chatId: row.id,
  };
}

/** The caller's chats: every read and write of a chat goes through this filter (another owner's is a 404). */
export function scopedChats(db: Db, principal: Principal) {
  const owner = ownerColumn(principal);
  let query = db.selectFrom("chats").where(owner.column, "=", owner.value);
  if (owner.organizationId) query = query.where("organization_id", "=", owner.organizationId);
  return query;
}

export function chatView(row: ChatRow): ChatView {
  return {
    id: row.id,
    title: row.title,
    replying: row.replying_until !== null && new Date(row.replying_until).getTime() > Date.now(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function createChat(platform: Platform, principal: Principal, input: { title?: string }) {
  const row = await platform.database.db
    .insertInto("chats")
    .values({ ...ownerOf(principal), title: input.title?.trim() ?? null })
    .returning(CHAT_COLUMNS)
    .executeTakeFirstOrThrow();
  await forgetChatCaches(platform, cacheOwner(row));
  return chatView(row);
}

/** One of the caller's chats, or 404 chat_not_found. */
export async function getChat(platform: Platform, principal: Principal, chatId: string, db: Db = platform.database.db) {
  const row = await scopedChats(db, principal).select(CHAT_COLUMNS).where("id", "=", chatId).executeTakeFirst();
  if (!row) throw errors.chatNotFound(chatId);
  return row;
}

export async function renameChat(platform: Platform, principal: Principal, chatId: string, title: string) {
  const owned = await getChat(platform, principal, chatId);
  const row = await platform.database.db
    .updateTable("chats")
    .set({ title: title.trim(), updated_at: sql`now()` })
    .where("id", "=", owned.id)
    .returning(CHAT_COLUMNS)
    .executeTakeFirstOrThrow();
  await forgetChatCaches(platform, cacheOwner(row));
  return chatView(row);
}

/** Deletes a chat with its messages (the cascade). */
export async function deleteChat(platform: Platform, principal: Principal, chatId: string): Promise<void> {
  const owned = await getChat(platform, principal, chatId);
  await platform.database.db.deleteFrom("chats").where("id", "=", owned.id).execute();
  await forgetChatCaches(platform, cacheOwner(owned));
}

/** The caller's chats, the most recently active first (`updated_at`), by cursor. */
export async function listChats(
  platform: Platform,
  principal: Principal,
  options: { limit: number; cursor?: string | undefined },
): Promise<Page<ChatView>> {
  const cache = platform.caches.ns("cache");
  const key = isFirstPage(options) ? chatListKey(listOwnerOf(principal)) : null;
  if (key) {
    const cached = await cache.get<Page<ChatView>>(key);
    // `replying` is a moment's state: a cached page answers it from when it was read, so it is read afresh.
    if (cached && !cached.items.some((c) => c.replying)) return cached;
  }
  const after = decodeCursor(options.cursor);
  let query = scopedChats(platform.database.read, principal).select(CHAT_COLUMNS);
  if (after) query = query.where(sql<boolean>`(updated_at, id) < (${after.at}, ${after.id})`);
  const rows = await query
    .orderBy("updated_at", "desc")
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const page = toPage(rows, options.limit, (r) => ({ at: new Date(r.updated_at), id: r.id }), chatView);
  if (key) await cache.set(key, page);
  return page;
}
