import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/**
 * Seed 003's chats and messages, with Strata's conventions: every chat names
 * its owner (a user, or an anonymous session until it registers) and its
 * tenant; the seed's users are the platform's identity table. Departures,
 * each for a reason:
 * - messages keep the model and token counts of a reply, whether it is
 *   complete, partial (cut short mid-stream) or failed, why, and which user
 *   message it answers, so a cut-short reply is kept and can be retried;
 * - a user or system message is never blank (a failed reply may be);
 * - `replying_until` holds a chat while its reply is written, so a second
 *   message meanwhile is refused (409) instead of answered out of order;
 * - the seed's "indexes on frequently queried columns" are the lists' own
 *   orders: a user's chats by last activity, a chat's messages by time.
 */
export const chatMigrations: Migration[] = [
  {
    version: 400,
    name: "chat_schema",
    async up(db) {
      await sql`
        create table chats (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          title varchar(255),
          replying_until timestamptz(3),
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          constraint chats_one_owner check ((user_id is null) != (anonymous_session_id is null))
        )`.execute(db);
      await sql`
        create table messages (
          id uuid primary key default gen_random_uuid(),
          chat_id uuid not null references chats (id) on delete cascade,
          role varchar(50) not null check (role in ('user', 'assistant', 'system')),
          content text not null,
          status text not null default 'complete' check (status in ('complete', 'partial', 'failed')),
          model text,
          prompt_tokens integer check (prompt_tokens >= 0),
          completion_tokens integer check (completion_tokens >= 0),
          error_code text,
          reply_to uuid references messages (id) on delete set null,
          created_at timestamptz(3) not null default now(),
          constraint messages_not_blank check (role = 'assistant' or trim(content) != ''),
          constraint messages_status_of_replies check (role = 'assistant' or status = 'complete')
        )`.execute(db);
      await sql`create index chats_user_updated_idx on chats (user_id, updated_at desc, id desc)`.execute(db);
      await sql`create index chats_session_updated_idx on chats (anonymous_session_id, updated_at desc, id desc)
        where anonymous_session_id is not null`.execute(db);
      await sql`create index messages_chat_created_idx on messages (chat_id, created_at desc, id desc)`.execute(db);
    },
    async down(db) {
      await sql`drop table messages`.execute(db);
      await sql`drop table chats`.execute(db);
    },
  },
];
