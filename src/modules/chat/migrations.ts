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
  {
    version: 401,
    name: "chat_files",
    async up(db) {
      // Seed 003's files, owned like chats; its Weaviate Document class becomes file_chunks, whose vectors the
      // platform keeps in pgvector (source chat.file_chunks). A file's content hash makes an owner's second upload
      // of the same bytes the first one.
      await sql`
        create table files (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          filename varchar(255) not null,
          file_path varchar(500) not null,
          file_size bigint not null check (file_size >= 0),
          mime_type varchar(100) not null,
          content_sha256 text not null,
          status text not null default 'pending' check (status in ('pending', 'processing', 'ready', 'failed')),
          failure_reason text,
          chunk_count integer not null default 0,
          created_at timestamptz(3) not null default now(),
          processed_at timestamptz(3),
          constraint files_one_owner check ((user_id is null) != (anonymous_session_id is null)),
          constraint files_failed_reason check ((status = 'failed') = (failure_reason is not null))
        )`.execute(db);
      await sql`create unique index files_owner_content_idx on files (coalesce(user_id, anonymous_session_id), content_sha256)`.execute(
        db,
      );
      await sql`create index files_user_created_idx on files (user_id, created_at desc, id desc)`.execute(db);
      await sql`create index files_session_created_idx on files (anonymous_session_id, created_at desc, id desc)
        where anonymous_session_id is not null`.execute(db);
      await sql`create index files_filename_trgm_idx on files using gin (filename gin_trgm_ops)`.execute(db);
      await sql`
        create table file_chunks (
          id uuid primary key default gen_random_uuid(),
          file_id uuid not null references files (id) on delete cascade,
          chunk_index integer not null,
          content text not null,
          start_offset integer not null,
          end_offset integer not null,
          content_vector tsvector generated always as (to_tsvector('english', content)) stored,
          unique (file_id, chunk_index),
          check (start_offset >= 0 and end_offset >= start_offset)
        )`.execute(db);
      await sql`create index file_chunks_content_gin on file_chunks using gin (content_vector)`.execute(db);
    },
    async down(db) {
      await sql`drop table file_chunks`.execute(db);
      await sql`drop table files`.execute(db);
    },
  },
  {
    version: 402,
    name: "chat_retrieval",
    async up(db) {
      // What a chat's replies may draw on: nothing, the files attached to it, or all of the owner's files; and the
      // chunks each reply drew on (its citations).
      await sql`alter table chats add column retrieval text not null default 'off'
        check (retrieval in ('off', 'attached', 'all'))`.execute(db);
      await sql`
        create table chat_files (
          chat_id uuid not null references chats (id) on delete cascade,
          file_id uuid not null references files (id) on delete cascade,
          attached_at timestamptz(3) not null default now(),
          primary key (chat_id, file_id)
        )`.execute(db);
      await sql`create index chat_files_file_idx on chat_files (file_id)`.execute(db);
      await sql`alter table messages add column citations jsonb not null default '[]'`.execute(db);
    },
    async down(db) {
      await sql`alter table messages drop column citations`.execute(db);
      await sql`drop table chat_files`.execute(db);
      await sql`alter table chats drop column retrieval`.execute(db);
    },
  },
];
