import type { Kysely } from "kysely";
import { type ChangeTopic, ownerIdOf, subjectTopic } from "../../platform/changes/change.ts";
import type { Tables } from "../../platform/database/tables.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { scopedChats } from "./chats.ts";
import type { MessageView } from "./schemas.ts";

export const CHAT_TOPIC = "chat";

/**
 * The `chat` topic of the change feed: messages of the subscriber's own
 * chats as they are stored (the user's, and each reply once written,
 * complete, partial or failed). `chat:<id>` follows one chat, which must be
 * the caller's at subscription.
 */
export function chatTopic(platform: Platform): ChangeTopic {
  return subjectTopic({
    name: CHAT_TOPIC,
    notFound: "chat_not_found",
    sees: async (principal, subject) =>
      (await scopedChats(platform.database.read, principal)
        .select("id")
        .where("id", "=", subject)
        .executeTakeFirst()) !== undefined,
  });
}

/** Records a stored message in its transaction, for the chat's owner. */
export function recordMessage(
  platform: Platform,
  trx: Kysely<Tables>,
  owner: Principal,
  message: MessageView,
): Promise<void> {
  return platform.changes.record(trx, {
    topic: CHAT_TOPIC,
    subject: message.chatId,
    event: "message.created",
    audience: { organizationId: owner.organizationId, ownerId: ownerIdOf(owner) },
    data: { message },
  });
}
