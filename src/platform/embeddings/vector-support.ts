import { type Kysely, sql } from "kysely";
import type { Tables } from "../database/tables.ts";

/** Whether this database can store and search vectors, and if not, why. */
export type VectorSupport = { available: true } | { available: false; reason: string; final: boolean };

/**
 * Finds out whether pgvector is usable, and makes it so when it can: the
 * embedded profile always has it; a Postgres server has it once an operator
 * installs the extension's package. If the package appeared after the
 * embeddings migration ran (which then made the table without its vector
 * column), the extension is created and the column added here, so
 * installing pgvector and restarting is all it takes.
 */
export async function detectVectorSupport(db: Kysely<Tables>): Promise<VectorSupport> {
  const state = await sql<{ installed: boolean; available: boolean; has_table: boolean; has_column: boolean }>`
    select
      to_regclass('embeddings') is not null as has_table,
      exists (select 1 from pg_extension where extname = 'vector') as installed,
      exists (select 1 from pg_available_extensions where name = 'vector') as available,
      exists (
        select 1 from information_schema.columns
        where table_schema = current_schema() and table_name = 'embeddings' and column_name = 'embedding'
      ) as has_column`.execute(db);
  const row = state.rows[0];
  if (!row) return missing();
  // Asked before migrations ran (a readiness probe at start-up): not an answer to remember.
  if (!row.has_table) return { available: false, reason: "the embeddings table is not migrated yet", final: false };
  if (!row.installed && !row.available) return missing();
  try {
    if (!row.installed) await sql`create extension if not exists vector`.execute(db);
    // Nothing is written to the table without the column, so it is empty and the column can be required.
    if (!row.has_column)
      await sql`alter table embeddings add column if not exists embedding vector not null`.execute(db);
  } catch (error) {
    return {
      available: false,
      reason: `pgvector is installed on the server but could not be enabled: ${(error as Error).message}`,
      final: true,
    };
  }
  return { available: true };
}

function missing(): VectorSupport {
  return {
    available: false,
    reason: "the Postgres server does not have the pgvector extension (package postgresql-<version>-pgvector)",
    final: true,
  };
}
