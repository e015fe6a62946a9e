import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";
import { documentChangeMigration } from "./document-change-migration.ts";
import { documentSearchMigration } from "./search-table-migration.ts";

/**
 * Seed 000's collections as tables, with every index of its Indexing
 * Strategy table (named after it), plus full-text search. Timestamps are
 * timestamptz(3), as everywhere in Strata.
 */
export const writingMigrations: Migration[] = [
  {
    version: 100,
    name: "writing_documents",
    async up(db) {
      await sql`
        create table documents (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          title text not null check (length(title) between 1 and 500),
          description text check (length(description) <= 5000),
          tags text[] not null default '{}' check (cardinality(tags) <= 50),
          is_archived boolean not null default false,
          current_version_id uuid,
          current_version_number integer not null default 0,
          last_version_number integer not null default 0,
          content_key text not null,
          content_size integer not null default 0,
          content_sha256 text not null default '',
          search_text text not null default '',
          search_vector tsvector generated always as (
            setweight(to_tsvector('english', title), 'A') ||
            setweight(to_tsvector('english', coalesce(description, '')), 'B') ||
            setweight(to_tsvector('english', search_text), 'C')
          ) stored,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          last_accessed_at timestamptz(3) not null default now(),
          archived_at timestamptz(3),
          deleted_at timestamptz(3),
          constraint documents_one_owner check ((user_id is null) <> (anonymous_session_id is null))
        )`.execute(db);
      // Seed 000's Indexing Strategy: Documents.userId, tags (multikey), (userId, isArchived).
      await sql`create index documents_user_id_idx on documents (user_id)`.execute(db);
      await sql`create index documents_tags_idx on documents using gin (tags)`.execute(db);
      await sql`create index documents_user_id_is_archived_idx on documents (user_id, is_archived, updated_at desc, id desc)`.execute(
        db,
      );
      // The same for anonymous owners, and search.
      await sql`create index documents_anonymous_session_idx on documents (anonymous_session_id, is_archived, updated_at desc, id desc)`.execute(
        db,
      );
      await sql`create index documents_search_idx on documents using gin (search_vector)`.execute(db);
      await sql`create index documents_deleted_idx on documents (deleted_at) where deleted_at is not null`.execute(db);

      await sql`
        create table document_versions (
          id uuid primary key,
          document_id uuid not null references documents (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          version_number integer not null check (version_number > 0),
          kind text not null check (kind in ('major', 'minor', 'ai_suggestion')),
          storage text not null check (storage in ('snapshot', 'delta')),
          base_version_id uuid references document_versions (id),
          blob_key text not null,
          stored_size integer not null,
          content_size integer not null,
          content_sha256 text not null,
          change_description text check (length(change_description) <= 1000),
          created_by_user_id uuid references users (id) on delete set null,
          created_by_session_id uuid references anonymous_sessions (id) on delete set null,
          previous_version_id uuid references document_versions (id),
          suggestion_state text check (suggestion_state in ('pending', 'accepted', 'rejected')),
          created_at timestamptz(3) not null default now(),
          expires_at timestamptz(3),
          pruned_at timestamptz(3),
          constraint document_versions_delta_has_base check ((storage = 'delta') = (base_version_id is not null))
        )`.execute(db);
      // Seed 000: DocumentVersions.documentId, and (documentId, versionNumber), unique.
      await sql`create index document_versions_document_id_idx on document_versions (document_id)`.execute(db);
      await sql`create unique index document_versions_document_id_version_number_idx on document_versions (document_id, version_number)`.execute(
        db,
      );
      await sql`create index document_versions_expiry_idx on document_versions (expires_at) where pruned_at is null and expires_at is not null`.execute(
        db,
      );
      await sql`alter table documents add constraint documents_current_version_fk
        foreign key (current_version_id) references document_versions (id) deferrable initially deferred`.execute(db);

      await sql`
        create table prompt_templates (
          id uuid primary key default gen_random_uuid(),
          name text not null check (length(name) between 1 and 200),
          description text,
          prompt_text text not null check (length(prompt_text) between 1 and 10000),
          category text not null check (length(category) between 1 and 64),
          is_system boolean not null default false,
          organization_id uuid references organizations (id) on delete cascade,
          created_by uuid references users (id) on delete set null,
          version integer not null default 1,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          deleted_at timestamptz(3),
          constraint prompt_templates_system_or_owned check (is_system = (organization_id is null))
        )`.execute(db);
      // Seed 000: AIPromptTemplates.category.
      await sql`create index prompt_templates_category_idx on prompt_templates (category)`.execute(db);
      // The system templates every deployment starts with (seed 000's
      // AIPromptTemplates with isSystem), written out as this migration
      // shipped them: a migration never reads live code, so what it does
      // cannot change once it has run somewhere (and the text is part of the
      // database image's fingerprint). Changing, adding or removing a system
      // template is a new migration that updates these rows, never an edit here.
      await sql`
        insert into prompt_templates (name, category, description, prompt_text, is_system) values
          ('Improve clarity', 'clarity',
            'Rewrite for clearer, more direct sentences without changing the meaning.',
            'Rewrite the document below so each sentence is clear and direct. Keep its meaning, facts and structure. Reply with the rewritten document only.', true),
          ('Fix grammar and spelling', 'grammar',
            'Correct grammar, spelling and punctuation only.',
            'Correct the grammar, spelling and punctuation of the document below. Change nothing else. Reply with the corrected document only.', true),
          ('Make it concise', 'concision',
            'Remove redundancy and filler.',
            'Shorten the document below by removing redundancy and filler while keeping every point. Reply with the shortened document only.', true),
          ('Formal tone', 'tone',
            'Rewrite in a formal, professional register.',
            'Rewrite the document below in a formal, professional tone. Reply with the rewritten document only.', true),
          ('Friendly tone', 'tone',
            'Rewrite in a warm, conversational register.',
            'Rewrite the document below in a warm, conversational tone. Reply with the rewritten document only.', true),
          ('Simplify', 'readability',
            'Use plain words and short sentences.',
            'Rewrite the document below with plain words and short sentences, for a general reader. Reply with the rewritten document only.', true)
      `.execute(db);

      await sql`
        create table ai_interactions (
          id uuid primary key default gen_random_uuid(),
          user_id uuid references users (id) on delete cascade,
          anonymous_session_id uuid references anonymous_sessions (id) on delete cascade,
          organization_id uuid not null references organizations (id),
          document_id uuid references documents (id) on delete set null,
          prompt_template_id uuid references prompt_templates (id) on delete set null,
          custom_prompt text,
          model text not null,
          cache_hit boolean not null,
          ai_response text not null,
          suggestion_version_id uuid references document_versions (id) on delete set null,
          status text not null default 'pending' check (status in ('pending', 'accepted', 'rejected')),
          accepted_suggestions integer not null default 0,
          rejected_suggestions integer not null default 0,
          timestamp timestamptz(3) not null default now(),
          decided_at timestamptz(3),
          constraint ai_interactions_one_owner check ((user_id is null) <> (anonymous_session_id is null))
        )`.execute(db);
      // Seed 000: AIInteractions.sessionId, and (documentId, timestamp).
      await sql`create index ai_interactions_session_id_idx on ai_interactions (anonymous_session_id)`.execute(db);
      await sql`create index ai_interactions_document_id_timestamp_idx on ai_interactions (document_id, timestamp)`.execute(
        db,
      );
      await sql`create index ai_interactions_user_id_idx on ai_interactions (user_id, timestamp)`.execute(db);

      await sql`
        create table writing_blob_cleanup (
          blob_key text primary key,
          delete_after timestamptz(3) not null
        )`.execute(db);
      await sql`create index writing_blob_cleanup_due_idx on writing_blob_cleanup (delete_after)`.execute(db);
    },
    async down(db) {
      for (const table of ["writing_blob_cleanup", "ai_interactions", "prompt_templates"]) {
        await db.schema.dropTable(table).execute();
      }
      await sql`alter table documents drop constraint documents_current_version_fk`.execute(db);
      await db.schema.dropTable("document_versions").execute();
      await db.schema.dropTable("documents").execute();
    },
  },
  {
    version: 101,
    name: "writing_content_objects",
    /**
     * Version content as content-addressed objects per document (keyframes
     * and deltas, see version-store.ts). Versions written in the earlier form
     * keep their blob_key until the history migration (history-migration.ts)
     * converts them; new versions have none. The documents row carries its
     * history's totals so a read costs no aggregate.
     */
    async up(db) {
      await sql`
        create table document_objects (
          document_id uuid not null references documents (id) on delete cascade,
          sha256 text not null,
          kind text not null check (kind in ('keyframe', 'delta')),
          base_sha256 text,
          depth integer not null check (depth >= 0),
          run integer not null check (run between 0 and depth),
          content_size integer not null,
          stored_size integer not null,
          body bytea,
          blob_key text,
          created_at timestamptz(3) not null default now(),
          primary key (document_id, sha256),
          constraint document_objects_delta_has_base check ((kind = 'delta') = (base_sha256 is not null)),
          constraint document_objects_keyframe_depth check ((kind = 'keyframe') = (depth = 0)),
          constraint document_objects_one_place check ((body is null) <> (blob_key is null)),
          -- No cascade: an object a delta is based on can never go first.
          constraint document_objects_base_fk foreign key (document_id, base_sha256)
            references document_objects (document_id, sha256)
        )`.execute(db);
      await sql`create index document_objects_base_idx on document_objects (document_id, base_sha256) where base_sha256 is not null`.execute(
        db,
      );
      await sql`create unique index document_objects_blob_key_idx on document_objects (blob_key) where blob_key is not null`.execute(
        db,
      );
      await sql`alter table document_versions alter column blob_key drop not null`.execute(db);
      await sql`alter table document_versions drop constraint document_versions_storage_check`.execute(db);
      await sql`alter table document_versions add constraint document_versions_storage_check
        check (storage in ('snapshot', 'delta', 'keyframe'))`.execute(db);
      await sql`alter table document_versions drop constraint document_versions_delta_has_base`.execute(db);
      await sql`alter table document_versions add constraint document_versions_delta_has_base
        check (case when blob_key is null then base_version_id is null
          else (storage = 'delta') = (base_version_id is not null) end)`.execute(db);
      await sql`create index document_versions_legacy_idx on document_versions (document_id) where blob_key is not null`.execute(
        db,
      );
      await sql`alter table documents add column history_versions integer not null default 0`.execute(db);
      await sql`alter table documents add column history_stored_bytes bigint not null default 0`.execute(db);
      await sql`update documents d set
        history_versions = (select count(*) from document_versions v where v.document_id = d.id and v.pruned_at is null),
        history_stored_bytes = (select coalesce(sum(v.stored_size), 0) from document_versions v
          where v.document_id = d.id and (v.pruned_at is null or exists (
            select 1 from document_versions x where x.base_version_id = v.id and x.pruned_at is null)))`.execute(db);
      await sql`
        create table writing_history_migration (
          id smallint primary key check (id = 1),
          cursor_document_id uuid,
          documents_migrated integer not null default 0,
          versions_migrated integer not null default 0,
          documents_failed integer not null default 0,
          started_at timestamptz(3) not null default now(),
          finished_at timestamptz(3)
        )`.execute(db);
      await sql`insert into writing_history_migration (id) values (1)`.execute(db);
    },
    // Down restores the schema; it cannot turn content objects back into the
    // earlier form, so it refuses while any version depends on them.
    async down(db) {
      await db.schema.dropTable("writing_history_migration").execute();
      await sql`alter table documents drop column history_stored_bytes`.execute(db);
      await sql`alter table documents drop column history_versions`.execute(db);
      await sql`drop index document_versions_legacy_idx`.execute(db);
      await sql`alter table document_versions drop constraint document_versions_delta_has_base`.execute(db);
      await sql`alter table document_versions add constraint document_versions_delta_has_base
        check ((storage = 'delta') = (base_version_id is not null))`.execute(db);
      await sql`alter table document_versions drop constraint document_versions_storage_check`.execute(db);
      await sql`alter table document_versions add constraint document_versions_storage_check
        check (storage in ('snapshot', 'delta'))`.execute(db);
      await sql`alter table document_versions alter column blob_key set not null`.execute(db);
      await db.schema.dropTable("document_objects").execute();
    },
  },
  documentSearchMigration,
  documentChangeMigration,
];
