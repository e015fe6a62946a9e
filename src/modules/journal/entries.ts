import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import { ownerOf, type Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { enqueueAnalysis, markTaskQueued } from "./analysis-tasks.ts";
import { forgetOwnerCaches } from "./caches.ts";
import { ENTRY_SOURCE, entryText } from "./entry-text.ts";
import type { EntryPatchInput, EntryView, NewEntryInput, WrittenEntryView } from "./schemas.ts";
import { loadEntryViews } from "./views.ts";

type Db = Kysely<Tables>;

/** A mood as stored: two decimals, as numeric(3,2) keeps it. */
function moodValue(score: number): string {
  return score.toFixed(2);
}

/**
 * Creates an entry, and in the same transaction: the writer's topic links,
 * its analysis job, and its embedding in the outbox, so an entry is never
 * saved without the work that follows it.
 */
export async function createEntry(
  platform: Platform,
  principal: Principal,
  input: NewEntryInput,
): Promise<WrittenEntryView> {
  const owner = ownerOf(principal);
  const { id, taskId } = await transaction(platform.database.db, async (trx) => {
    const row = await trx
      .insertInto("journal_entries")
      .values({
        ...owner,
        title: input.title ?? null,
        content: input.content,
        entry_date: input.entryDate ?? sql<string>`current_date`,
        mood_score: input.moodScore === undefined ? null : moodValue(input.moodScore),
        mood_origin: input.moodScore === undefined ? null : "user",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (input.topicIds) await linkTopics(trx, principal, row.id, input.topicIds);
    await rememberLexemes(trx, row.id);
    await platform.vectors.queue(trx, ENTRY_SOURCE, [
      { id: row.id, text: entryText(input.title ?? null, input.content) },
    ]);
    return { id: row.id, taskId: await enqueueAnalysis(platform, trx, row.id) };
  });
  await afterWrite(platform, principal, taskId, id);
  const [view] = await loadEntryViews(platform.database.db, [id]);
  return { ...(view as EntryView), analysisTaskId: taskId };
}

/**
 * Changes an entry. A new title or content forgets its vectors and queues
 * analysis and embedding again (the old results stay, marked stale, until
 * the new ones replace them); a mood the writer clears is the analysis's to
 * set again.
 */
export async function updateEntry(
  platform: Platform,
  principal: Principal,
  entryId: string,
  patch: EntryPatchInput,
): Promise<WrittenEntryView> {
  const taskId = await transaction(platform.database.db, async (trx) => {
    const current = await scoped(trx, principal)
      .select(["id", "title", "content"])
      .where("id", "=", entryId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw errors.journalEntryNotFound(entryId);
    const title = patch.title === undefined ? current.title : patch.title;
    const content = patch.content ?? current.content;
    const textChanged = title !== current.title || content !== current.content;
    await trx
      .updateTable("journal_entries")
      .set({
        title,
        content,
        ...(patch.entryDate !== undefined ? { entry_date: patch.entryDate } : {}),
        ...(patch.moodScore !== undefined
          ? patch.moodScore === null
            ? { mood_score: null, mood_origin: null }
            : { mood_score: moodValue(patch.moodScore), mood_origin: "user" as const }
          : {}),
        updated_at: sql`now()`,
      })
      .where("id", "=", entryId)
      .execute();
    if (patch.topicIds) {
      await trx.deleteFrom("entry_topics").where("entry_id", "=", entryId).where("added_by", "=", "user").execute();
      await linkTopics(trx, principal, entryId, patch.topicIds);
    }
    const moodCleared = patch.moodScore === null;
    if (!textChanged && !moodCleared) return null;
    if (textChanged) {
      await rememberLexemes(trx, entryId);
      await platform.vectors.queue(trx, ENTRY_SOURCE, [{ id: entryId, text: entryText(title, content) }]);
    }
    return enqueueAnalysis(platform, trx, entryId);
  });
  await afterWrite(platform, principal, taskId, entryId);
  const [view] = await loadEntryViews(platform.database.db, [entryId]);
  return { ...(view as EntryView), analysisTaskId: taskId };
}

/** Deletes an entry with its analyses, topic links and vectors; an analysis still running finds it gone and writes nothing. */
export async function deleteEntry(platform: Platform, principal: Principal, entryId: string): Promise<void> {
  await transaction(platform.database.db, async (trx) => {
    const gone = await scoped(trx, principal).select("id").where("id", "=", entryId).forUpdate().executeTakeFirst();
    if (!gone) throw errors.journalEntryNotFound(entryId);
    await platform.vectors.forget(trx, ENTRY_SOURCE, [entryId]);
    await trx.deleteFrom("journal_entries").where("id", "=", entryId).execute();
  });
  await forgetOwnerCaches(platform, principal);
}

export async function getEntry(platform: Platform, principal: Principal, entryId: string): Promise<EntryView> {
  const found = await scoped(platform.database.read, principal)
    .select("id")
    .where("id", "=", entryId)
    .executeTakeFirst();
  if (!found) throw errors.journalEntryNotFound(entryId);
  const [view] = await loadEntryViews(platform.database.read, [entryId]);
  if (!view) throw errors.journalEntryNotFound(entryId);
  return view;
}

/** The caller's entries: every query of this module starts here. */
export function scoped(db: Db, principal: Principal) {
  const owner = ownerColumn(principal);
  let query = db.selectFrom("journal_entries").where(owner.column, "=", owner.value);
  if (owner.organizationId) query = query.where("organization_id", "=", owner.organizationId);
  return query;
}

/** Links topics the writer chose; each must be a system topic or the caller's own (404 topic_not_found names the first that is not). */
async function linkTopics(trx: Db, principal: Principal, entryId: string, topicIds: readonly string[]): Promise<void> {
  const unique = [...new Set(topicIds)];
  if (unique.length === 0) return;
  const owner = ownerColumn(principal);
  const usable = await trx
    .selectFrom("topics")
    .select("id")
    .where("id", "in", unique)
    .where((eb) => eb.or([eb("is_system_topic", "=", true), eb(owner.column, "=", owner.value)]))
    .execute();
  const found = new Set(usable.map((t) => t.id));
  const missing = unique.find((id) => !found.has(id));
  if (missing) throw errors.topicNotFound(missing);
  await trx
    .insertInto("entry_topics")
    .values(unique.map((topic_id) => ({ entry_id: entryId, topic_id, relevance_score: 1, added_by: "user" as const })))
    .onConflict((oc) => oc.columns(["entry_id", "topic_id"]).doUpdateSet({ relevance_score: 1, added_by: "user" }))
    .execute();
}

async function afterWrite(platform: Platform, principal: Principal, taskId: string | null, entryId: string) {
  if (taskId) await markTaskQueued(platform, taskId, entryId);
  await forgetOwnerCaches(platform, principal);
}

/**
 * Adds the entry's words (its content_vector's lexemes) to the vocabulary
 * typo-tolerant search corrects against (journal_lexemes). Words are never
 * taken out: one no entry holds any more corrects to nothing found.
 */
async function rememberLexemes(trx: Kysely<Tables>, entryId: string): Promise<void> {
  await sql`
    insert into journal_lexemes (lexeme)
    select distinct u.lexeme from journal_entries e, unnest(e.content_vector) u where e.id = ${entryId}
    -- In one order for every writer, so two entries adding the same new words never deadlock.
    order by u.lexeme
    on conflict do nothing`.execute(trx);
}
