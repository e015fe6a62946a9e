import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

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
 *
 * The channel, `strata_document_changed`, is written out here rather than
 * imported: a migration never reads live code (document-row-cache.ts names
 * the same channel for itself). Another channel is a new migration.
 */
export const documentChangeMigration: Migration = {
  version: 120,
  name: "writing_document_change_notify",
  async up(db) {
    await sql`
      create function documents_notify_changed() returns trigger language plpgsql as $$
      begin
        if exists (select 1 from pg_listening_channels() as c where c = 'strata_document_changed') then
          perform pg_notify('strata_document_changed', old.id::text);
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
