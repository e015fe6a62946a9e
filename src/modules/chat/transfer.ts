import type { TransferContext } from "../../platform/identity/ownership-transfer.ts";

/**
 * An anonymous session's chats move to the account that claims it, inside
 * the registration (or login) transaction, as documents and journals do;
 * their messages hang off the chats and need nothing.
 */
export async function transferChats({ trx, anonymousSessionId, userId, toOrganizationId }: TransferContext) {
  await trx
    .updateTable("chats")
    .set({ user_id: userId, anonymous_session_id: null, organization_id: toOrganizationId })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
}
