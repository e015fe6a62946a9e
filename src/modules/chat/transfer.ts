import type { TransferContext } from "../../platform/identity/ownership-transfer.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetChatCaches } from "./caches.ts";
import { forgetChunkVectors } from "./files.ts";

/**
 * An anonymous session's chats and files move to the account that claims
 * it, inside the registration (or login) transaction, as documents and
 * journals do; messages and chunks hang off them and need nothing.
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
  // Files too. A file's blob key names no owner, so the blobs stay where they are. The session's copy of
  // bytes the user already has gives way to the user's (one row per owner and content).
  const doubles = trx
    .selectFrom("files")
    .select("id")
    .where("anonymous_session_id", "=", anonymousSessionId)
    .where((eb) =>
      eb(
        "content_sha256",
        "in",
        eb.selectFrom("files as f").select("f.content_sha256").where("f.user_id", "=", userId),
      ),
    );
  await forgetChunkVectors(platform, trx, doubles);
  const mine = await trx.deleteFrom("files").where("id", "in", doubles).returning("file_path").execute();
  await trx
    .updateTable("files")
    .set({ user_id: userId, anonymous_session_id: null, organization_id: toOrganizationId })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
  afterCommit(async () => {
    for (const file of mine) await platform.blobs.delete(file.file_path).catch(() => {});
  });
}
