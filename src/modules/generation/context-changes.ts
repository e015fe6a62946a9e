import { type ChangeTopic, subjectTopic } from "../../platform/changes/change.ts";
import type { Platform } from "../../runtime/platform.ts";

/**
 * The `context` topic of the change feed: each status a context of the
 * subscriber's organization takes (pending, processing, completed, failed,
 * cancelled), written by migration 203's trigger. An account only (as every
 * generation route); `context:<id>` follows one context, which must be the
 * organization's at subscription.
 */
export function contextTopic(platform: Platform): ChangeTopic {
  return subjectTopic({
    name: "context",
    notFound: "context_not_found",
    accountsOnly: true,
    sees: async (principal, subject) =>
      (await platform.database.read
        .selectFrom("generation_contexts")
        .select("id")
        .where("organization_id", "=", principal.organizationId)
        .where("id", "=", subject)
        .executeTakeFirst()) !== undefined,
  });
}
