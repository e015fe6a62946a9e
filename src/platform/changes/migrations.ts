import { sql } from "kysely";
import type { Migration } from "../migrations/migration.ts";

/*
 * The change feed (change-feed.ts). `change_outbox` holds each change a
 * module records, written in the transaction that made it (by the module's
 * code, or by a trigger of its tables), so a change exists exactly when its
 * transaction committed; the relay moves committed rows to the key-value
 * store's history, where they get their positions, and deletes them here.
 * Rows live for milliseconds; the table stays small.
 *
 * The relay is a job (queue `changes.relay`): a statement that writes to
 * the outbox makes sure one is pending, and wakes the workers the way every
 * enqueue does (NOTIFY on strata_jobs), so whichever process runs workers
 * relays within milliseconds of the commit, from whatever path wrote.
 *
 * A pending job may start before the writer commits, and would miss its
 * rows. So the writer holds the relay's advisory lock (727365006, the
 * relay's RELAY_LOCK) shared until it commits, and the relay takes it
 * exclusively: a relay waits for every writer that found its job pending,
 * and a writer that comes while a relay runs waits for it, then finds no
 * job pending and enqueues the next.
 */
export const changesMigrations: Migration[] = [
  {
    version: 6,
    name: "change_outbox",
    async up(db) {
      await sql`
        create table change_outbox (
          id bigint generated always as identity primary key,
          topic text not null,
          subject text not null,
          event text not null,
          audience jsonb not null,
          data jsonb not null default '{}',
          created_at timestamptz(3) not null default now()
        )`.execute(db);
      await sql`
        create function change_outbox_relay_job() returns trigger language plpgsql as $$
        begin
          perform pg_advisory_xact_lock_shared(727365006);
          if not exists (select 1 from jobs where queue = 'changes.relay' and status = 'pending') then
            insert into jobs (queue, max_attempts) values ('changes.relay', 3);
            perform pg_notify('strata_jobs', 'changes.relay');
          end if;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger change_outbox_relay after insert on change_outbox
        for each statement execute function change_outbox_relay_job()`.execute(db);
    },
    async down(db) {
      await sql`drop table change_outbox`.execute(db);
      await sql`drop function change_outbox_relay_job()`.execute(db);
    },
  },
];
