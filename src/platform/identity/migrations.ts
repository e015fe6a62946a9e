import { sql } from "kysely";
import type { Migration } from "../migrations/migration.ts";

/*
 * Timestamps are timestamptz(3): millisecond precision, exactly what a
 * JavaScript Date holds, so a value read, sent back in a cursor and compared
 * again is equal to itself.
 */
export const identityMigrations: Migration[] = [
  {
    version: 2,
    name: "identity",
    async up(db) {
      await sql`
        create table organizations (
          id uuid primary key default gen_random_uuid(),
          name text not null check (length(name) between 1 and 200),
          plan text not null default 'free' check (plan in ('anonymous', 'free', 'pro', 'enterprise')),
          settings jsonb not null default '{}',
          contacts jsonb not null default '[]',
          billing jsonb not null default '{}',
          is_personal boolean not null default false,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          deleted_at timestamptz(3)
        )`.execute(db);
      // The public organization (public-organization.ts), written out: a
      // migration never reads live code, so its id here is fixed for good.
      await sql`insert into organizations (id, name, plan) values ('00000000-0000-7000-8000-000000000000', 'Anonymous visitors', 'anonymous')`.execute(
        db,
      );

      await sql`
        create table users (
          id uuid primary key default gen_random_uuid(),
          email text not null check (length(email) <= 254),
          password_hash text not null,
          name text not null check (length(name) between 1 and 200),
          status text not null default 'active' check (status in ('active', 'suspended', 'deleted')),
          is_verified boolean not null default false,
          personal_organization_id uuid not null references organizations (id),
          last_login_at timestamptz(3),
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          deleted_at timestamptz(3)
        )`.execute(db);
      await sql`create unique index users_email_key on users (lower(email))`.execute(db);
      await sql`create index users_status_idx on users (status)`.execute(db);

      await sql`
        create table memberships (
          organization_id uuid not null references organizations (id) on delete cascade,
          user_id uuid not null references users (id) on delete cascade,
          role text not null check (role in ('owner', 'admin', 'member')),
          created_at timestamptz(3) not null default now(),
          primary key (organization_id, user_id)
        )`.execute(db);
      await sql`create index memberships_user_idx on memberships (user_id)`.execute(db);

      await sql`
        create table user_preferences (
          user_id uuid primary key references users (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          theme text not null default 'system' check (theme in ('system', 'light', 'dark')),
          font_size integer not null default 16 check (font_size between 8 and 48),
          language text not null default 'en',
          timezone text not null default 'UTC',
          default_prompt_categories text[] not null default '{}',
          notification_settings jsonb not null default '{"email": true, "slack": false}',
          privacy_settings jsonb not null default '{}',
          updated_at timestamptz(3) not null default now()
        )`.execute(db);

      await sql`
        create table api_keys (
          id uuid primary key default gen_random_uuid(),
          organization_id uuid not null references organizations (id) on delete cascade,
          user_id uuid not null references users (id) on delete cascade,
          name text not null check (length(name) between 1 and 100),
          key_prefix text not null unique,
          key_hash text not null,
          scopes text[] not null check (cardinality(scopes) > 0 and scopes <@ array['read', 'write', 'admin']),
          created_at timestamptz(3) not null default now(),
          last_used_at timestamptz(3),
          revoked_at timestamptz(3)
        )`.execute(db);
      await sql`create index api_keys_organization_idx on api_keys (organization_id, created_at)`.execute(db);

      await sql`
        create table anonymous_sessions (
          id uuid primary key default gen_random_uuid(),
          token_hash text not null unique,
          organization_id uuid not null references organizations (id),
          created_at timestamptz(3) not null default now(),
          last_seen_at timestamptz(3) not null default now(),
          expires_at timestamptz(3) not null,
          claimed_by_user_id uuid references users (id) on delete set null,
          claimed_at timestamptz(3)
        )`.execute(db);
      await sql`create index anonymous_sessions_expiry_idx on anonymous_sessions (expires_at) where claimed_at is null`.execute(
        db,
      );

      await sql`
        create table user_sessions (
          id uuid primary key default gen_random_uuid(),
          user_id uuid not null references users (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          session_start timestamptz(3) not null default now(),
          session_end timestamptz(3),
          last_used_at timestamptz(3) not null default now(),
          expires_at timestamptz(3) not null,
          end_reason text,
          activities jsonb not null default '{}',
          ip_address inet,
          user_agent text,
          constraint check_session_duration check (session_end is null or session_end >= session_start)
        )`.execute(db);
      await sql`create index idx_user_sessions_active on user_sessions (user_id, session_start desc) where session_end is null`.execute(
        db,
      );

      await sql`
        create table refresh_tokens (
          id uuid primary key default gen_random_uuid(),
          session_id uuid not null references user_sessions (id) on delete cascade,
          token_hash text not null unique,
          created_at timestamptz(3) not null default now(),
          expires_at timestamptz(3) not null,
          rotated_at timestamptz(3)
        )`.execute(db);
      await sql`create index refresh_tokens_session_idx on refresh_tokens (session_id)`.execute(db);
    },
    async down(db) {
      for (const table of [
        "refresh_tokens",
        "user_sessions",
        "anonymous_sessions",
        "api_keys",
        "user_preferences",
        "memberships",
        "users",
        "organizations",
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  },
];
