import type { TransferContext } from "../../platform/identity/ownership-transfer.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetChatCaches } from "./caches.ts";

/**
 * An anonymous session's chats move to the account that claims it, inside
 * the registration (or login) transaction, as documents and journals do;
 * their messages hang off the chats and need nothing.
 */
export async function transferChats(
  { trx, anonymousSessionId, userId, toOrganizationId, afterCommit }: TransferContext,
  platform: Platform,
) {
  afterCommit(() => forgetChatCaches(platform, { owner: userId, organizationId: toOrganizationId }));
  await trx
    .updateTable("chats")
    .set({ user_id: userId, anonymous_session_id: null, organization_id: toOrganizationId })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
}
