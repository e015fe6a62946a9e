import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import { ownerOf, type Principal } from "../../platform/identity/principal.ts";
import { decodeCursor, type Page, toPage } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { chatListKey, forgetChatCaches, isFirstPage, listOwnerOf } from "./caches.ts";
import type { ChatView } from "./schemas.ts";
import type { ChatsTable, RetrievalScope } from "./tables.ts";

type Db = Kysely<Tables>;
type ChatRow = Pick<ChatsTable, "title" | "user_id" | "anonymous_session_id" | "organization_id"> & {
  id: string;
  retrieval: RetrievalScope;
  replying_until: Date | null;
  created_at: Date;
  updated_at: Date;
};

const CHAT_COLUMNS = [
  "id",
  "title",
  "retrieval",
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

export function chatView(row: ChatRow, fileIds: readonly string[]): ChatView {
  return {
    id: row.id,
    title: row.title,
    retrieval: row.retrieval,
    fileIds: [...fileIds],
    replying: row.replying_until !== null && new Date(row.replying_until).getTime() > Date.now(),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The files attached to each of these chats, in the order they were attached. */
export async function attachedFiles(db: Db, chatIds: readonly string[]): Promise<Map<string, string[]>> {
  const byChat = new Map<string, string[]>(chatIds.map((id) => [id, []]));
  if (chatIds.length === 0) return byChat;
  const rows = await db
    .selectFrom("chat_files")
    .select(["chat_id", "file_id"])
    .where("chat_id", "in", chatIds)
    .orderBy("attached_at")
    .orderBy("file_id")
    .execute();
  for (const row of rows) byChat.get(row.chat_id)?.push(row.file_id);
  return byChat;
}

/** Attaches exactly these files to the chat; each must be the caller's (404 file_not_found names the first not). */
async function attach(db: Db, principal: Principal, chatId: string, fileIds: readonly string[]): Promise<void> {
  if (fileIds.length > 0) {
    const owner = ownerColumn(principal);
    const found = await db
      .selectFrom("files")
      .select("id")
      .where("id", "in", fileIds)
      .where(owner.column, "=", owner.value)
      .execute();
    const known = new Set(found.map((f) => f.id));
    const missing = fileIds.find((id) => !known.has(id));
    if (missing) throw errors.fileNotFound(missing);
  }
  await db.deleteFrom("chat_files").where("chat_id", "=", chatId).execute();
  if (fileIds.length > 0) {
    await db
      .insertInto("chat_files")
      .values(fileIds.map((fileId) => ({ chat_id: chatId, file_id: fileId })))
      .execute();
  }
}

export interface ChatSettings {
  title?: string;
  retrieval?: RetrievalScope;
  fileIds?: string[];
}

export async function createChat(platform: Platform, principal: Principal, input: ChatSettings) {
  const row = await transaction(platform.database.db, async (trx) => {
    const made = await trx
      .insertInto("chats")
      .values({ ...ownerOf(principal), title: input.title?.trim() ?? null, retrieval: input.retrieval ?? "off" })
      .returning(CHAT_COLUMNS)
      .executeTakeFirstOrThrow();
    if (input.fileIds) await attach(trx, principal, made.id, input.fileIds);
    return made;
  });
  await forgetChatCaches(platform, cacheOwner(row));
  return chatView(row, input.fileIds ?? []);
}

/** One of the caller's chats, or 404 chat_not_found. */
export async function getChat(platform: Platform, principal: Principal, chatId: string, db: Db = platform.database.db) {
  const row = await scopedChats(db, principal).select(CHAT_COLUMNS).where("id", "=", chatId).executeTakeFirst();
  if (!row) throw errors.chatNotFound(chatId);
  return row;
}

export async function getChatView(platform: Platform, principal: Principal, chatId: string): Promise<ChatView> {
  const row = await getChat(platform, principal, chatId, platform.database.read);
  return chatView(row, (await attachedFiles(platform.database.read, [row.id])).get(row.id) ?? []);
}

/** Changes a chat's title, retrieval or attached files. */
export async function updateChat(platform: Platform, principal: Principal, chatId: string, input: ChatSettings) {
  const owned = await getChat(platform, principal, chatId);
  const row = await transaction(platform.database.db, async (trx) => {
    const updated = await trx
      .updateTable("chats")
      .set({
        ...(input.title !== undefined ? { title: input.title.trim() } : {}),
        ...(input.retrieval !== undefined ? { retrieval: input.retrieval } : {}),
        updated_at: sql`now()`,
      })
      .where("id", "=", owned.id)
      .returning(CHAT_COLUMNS)
      .executeTakeFirstOrThrow();
    if (input.fileIds) await attach(trx, principal, owned.id, input.fileIds);
    return updated;
  });
  await forgetChatCaches(platform, cacheOwner(row));
  return chatView(row, (await attachedFiles(platform.database.db, [row.id])).get(row.id) ?? []);
}

/** Deletes a chat with its messages and attachments (the cascade); the files stay. */
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
  const files = await attachedFiles(
    platform.database.read,
    rows.map((r) => r.id),
  );
  const page = toPage(
    rows,
    options.limit,
    (r) => ({ at: new Date(r.updated_at), id: r.id }),
    (r) => chatView(r, files.get(r.id) ?? []),
  );
  if (key) await cache.set(key, page);
  return page;
}
