import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/**
 * Moves full-text search out of the `documents` row (see search-index.ts).
 *
 * The row used to carry a copy of the current text (up to 200k characters)
 * and a stored tsvector generated from it, both rewritten by every save, so
 * every save left a dead copy of both behind. `document_search` holds them
 * instead, one row per document, written only when the searchable content
 * changes; `document_search_pending` lists the documents whose latest
 * autosaves are not indexed yet (a durable queue, swept by the writing
 * module's worker).
 */
export const documentSearchMigration: Migration = {
  version: 110,
  name: "writing_document_search",
  async up(db) {
    await sql`
      create table document_search (
        document_id uuid primary key references documents (id) on delete cascade,
        organization_id uuid not null references organizations (id),
        search_text text not null,
        -- SHA-256 of search_text: a save of the text already indexed writes nothing.
        text_sha256 text not null,
        search_vector tsvector not null,
        indexed_at timestamptz(3) not null default now()
      )`.execute(db);
    await sql`create index document_search_vector_idx on document_search using gin (search_vector)`.execute(db);
    await sql`
      create table document_search_pending (
        document_id uuid primary key references documents (id) on delete cascade,
        dirty_since timestamptz(3) not null default now()
      )`.execute(db);
    await sql`
      insert into document_search (document_id, organization_id, search_text, text_sha256, search_vector)
      select id, organization_id, search_text, encode(sha256(convert_to(search_text, 'UTF8')), 'hex'), search_vector
      from documents`.execute(db);
    await sql`drop index documents_search_idx`.execute(db);
    await sql`alter table documents drop column search_vector, drop column search_text`.execute(db);
  },
  async down(db) {
    await sql`alter table documents add column search_text text not null default ''`.execute(db);
    await sql`
      alter table documents add column search_vector tsvector generated always as (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', coalesce(description, '')), 'B') ||
        setweight(to_tsvector('english', search_text), 'C')
      ) stored`.execute(db);
    // The text last indexed: for a document with autosaves still pending,
    // that is an earlier version's, as it was in search until now.
    await sql`
      update documents d set search_text = s.search_text
      from document_search s where s.document_id = d.id`.execute(db);
    await sql`create index documents_search_idx on documents using gin (search_vector)`.execute(db);
    await sql`drop table document_search_pending`.execute(db);
    await sql`drop table document_search`.execute(db);
  },
};
