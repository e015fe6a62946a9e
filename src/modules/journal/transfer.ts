import { sql } from "kysely";
import type { TransferContext } from "../../platform/identity/ownership-transfer.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetCachesOf } from "./caches.ts";
import { TOPIC_SOURCE } from "./topic-embeddings.ts";

/**
 * An anonymous session's journal moves to the account that claims it,
 * inside the registration (or login) transaction, as documents do: entries
 * change owner and tenant; the session's topics become the user's, except
 * where the user already has a topic of that name, whose links the entries
 * take over (its vector goes with it); insights follow. Entries' vectors
 * and analyses hang off the entries and need nothing.
 */
export async function transferJournal(
  { trx, anonymousSessionId, userId, toOrganizationId, afterCommit }: TransferContext,
  platform: Platform,
): Promise<void> {
  afterCommit(() => forgetCachesOf(platform, userId));
  await trx
    .updateTable("journal_entries")
    .set({ user_id: userId, anonymous_session_id: null, organization_id: toOrganizationId })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
  // Same name as one of the user's: the user's topic takes the links, the session's goes.
  await sql`
    insert into entry_topics (entry_id, topic_id, relevance_score, added_by, added_at)
    select et.entry_id, mine.id, et.relevance_score, et.added_by, et.added_at
    from topics theirs
    join topics mine on mine.user_id = ${userId} and lower(mine.name) = lower(theirs.name)
    join entry_topics et on et.topic_id = theirs.id
    where theirs.anonymous_session_id = ${anonymousSessionId}
    on conflict (entry_id, topic_id) do nothing`.execute(trx);
  const merged = await sql<{ id: string }>`
    delete from topics theirs
    using topics mine
    where theirs.anonymous_session_id = ${anonymousSessionId}
      and mine.user_id = ${userId} and lower(mine.name) = lower(theirs.name)
    returning theirs.id`.execute(trx);
  await platform.vectors.forget(
    trx,
    TOPIC_SOURCE,
    merged.rows.map((r) => r.id),
  );
  await trx
    .updateTable("topics")
    .set({ user_id: userId, anonymous_session_id: null })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
  await trx
    .updateTable("psychology_insights")
    .set({ user_id: userId, anonymous_session_id: null })
    .where("anonymous_session_id", "=", anonymousSessionId)
    .execute();
}
