import { sql } from "kysely";
import type { Migration } from "../migrations/migration.ts";

/*
 * The embedding store (vector-store.ts).
 * - `embeddings`: one vector per searchable resource and model, with the
 *   model's dimension and the digest of the text it was made from. The
 *   column is pgvector's dimensionless `vector`, so models of any dimension
 *   share the table; each (source, model) gets its own partial HNSW index
 *   over `embedding::vector(D)` once its dimension is known.
 * - `embedding_outbox`: what waits to be embedded, written in the same
 *   transaction as the text it describes, so nothing committed is missed.
 * - `embedding_models`: per source, the model queries use (active), the one
 *   being filled after a configuration change (building) and the one whose
 *   vectors are being removed (retiring).
 * Resources belong to modules, so there is no foreign key to them: a module
 * forgets a resource's vectors in the transaction that deletes it.
 *
 * On a Postgres server without pgvector the table is made without its
 * vector column, and everything else runs; the column is added when the
 * extension appears (vector-support.ts).
 */
export const embeddingsMigrations: Migration[] = [
  {
    version: 5,
    name: "embeddings",
    async up(db) {
      await sql`
        create table embeddings (
          source text not null,
          resource_id uuid not null,
          model text not null,
          dimensions integer not null check (dimensions > 0),
          text_sha256 text not null,
          embedded_at timestamptz(3) not null default now(),
          primary key (source, resource_id, model)
        )`.execute(db);
      await sql`
        create table embedding_outbox (
          source text not null,
          resource_id uuid not null,
          text_sha256 text not null,
          queued_at timestamptz(3) not null default now(),
          claimed_until timestamptz(3),
          primary key (source, resource_id)
        )`.execute(db);
      await sql`create index embedding_outbox_queued_idx on embedding_outbox (source, queued_at)`.execute(db);
      await sql`
        create table embedding_models (
          source text not null,
          model text not null,
          dimensions integer not null default 0,
          state text not null check (state in ('building', 'active', 'retiring')),
          backfill_after uuid,
          started_at timestamptz(3) not null default now(),
          activated_at timestamptz(3),
          primary key (source, model)
        )`.execute(db);
      // One model answers a source's queries at a time.
      await sql`create unique index embedding_models_active_idx on embedding_models (source) where state = 'active'`.execute(
        db,
      );
      await sql`
        do $$ begin
          if exists (select 1 from pg_extension where extname = 'vector') then
            alter table embeddings add column embedding vector not null;
          end if;
        end $$`.execute(db);
    },
    async down(db) {
      await sql`drop table embedding_models`.execute(db);
      await sql`drop table embedding_outbox`.execute(db);
      await sql`drop table embeddings`.execute(db);
    },
  },
];
