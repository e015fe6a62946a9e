import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { DEFAULT_PAGE_SIZE } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";

/**
 * Seed 003's `cache:{key}`: the first page of a caller's chat list and of a
 * chat's messages (what a chat screen opens with), five minutes, dropped by
 * every write that changes them: a chat made, renamed or deleted, a message
 * or reply stored. Other pages and sizes go to the database.
 */

/** Whose list it is: the owner, and the organization an API key is held to ("all" for a person's own). */
export interface ListOwner {
  owner: string;
  organizationId: string | null;
}

export function listOwnerOf(principal: Principal): ListOwner {
  const owner = ownerColumn(principal);
  return { owner: owner.value, organizationId: owner.organizationId };
}

export function chatListKey(list: ListOwner): string {
  return `chats:${list.owner}:${list.organizationId ?? "all"}`;
}

export function recentMessagesKey(chatId: string): string {
  return `messages:${chatId}:recent`;
}

/** Whether a list request is the cached first page. */
export function isFirstPage(options: { limit: number; cursor?: string | undefined }): boolean {
  return options.cursor === undefined && options.limit === DEFAULT_PAGE_SIZE;
}

/**
 * Drops the owner's cached chat lists (their own, and the one an API key
 * of the chat's organization reads) and, with a chat, its recent messages.
 */
export async function forgetChatCaches(
  platform: Platform,
  chat: { owner: string; organizationId: string; chatId?: string },
): Promise<void> {
  const keys = [
    chatListKey({ owner: chat.owner, organizationId: null }),
    chatListKey({ owner: chat.owner, organizationId: chat.organizationId }),
  ];
  if (chat.chatId) keys.push(recentMessagesKey(chat.chatId));
  await platform.caches.ns("cache").invalidate(...keys);
}
