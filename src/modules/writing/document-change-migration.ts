import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/** The channel a changed or deleted `documents` row's id is announced on (document-row-cache.ts listens). */
export const DOCUMENT_CHANGED_CHANNEL = "strata_document_changed";

/**
 * Announces every update or delete of a `documents` row, with its id, so the
 * embedded profile's in-process row cache is invalidated by the database
 * itself: whatever code path writes the row (a route, a job, a transfer, a
 * migration, a hand-written statement), the trigger sees it.
 *
 * The notification is sent only when the writing session itself listens on
 * the channel. On the embedded profile that is always so (one connection,
 * which the cache listens on); on Postgres no connection listens, and a
 * NOTIFY there would cost every committing writer the server's global
 * notify-queue lock for nothing, so it is skipped.
 */
export const documentChangeMigration: Migration = {
  version: 120,
  name: "writing_document_change_notify",
  async up(db) {
    await sql`
      create function documents_notify_changed() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from pg_listening_channels() as c where c = ${sql.lit(DOCUMENT_CHANGED_CHANNEL)}) then
          perform pg_notify(${sql.lit(DOCUMENT_CHANGED_CHANNEL)}, old.id::text);
        end if;
        return null;
      end
      $$`.execute(db);
    await sql`
      create trigger documents_notify_changed after update or delete on documents
      for each row execute function documents_notify_changed()`.execute(db);
  },
  async down(db) {
    await sql`drop trigger documents_notify_changed on documents`.execute(db);
    await sql`drop function documents_notify_changed()`.execute(db);
  },
};
