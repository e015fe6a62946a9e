import { sql } from "kysely";
import type { Migration } from "../migrations/migration.ts";

/*
 * The change feed (change-feed.ts). `change_outbox` holds each change a
 * module records, written in the transaction that made it, so a change
 * exists exactly when its transaction committed; the relay moves committed
 * rows to the key-value store's history, where they get their positions,
 * and deletes them here. Rows live for milliseconds; the table stays small.
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
    },
    async down(db) {
      await sql`drop table change_outbox`.execute(db);
    },
  },
];
