import { sql } from "kysely";
import type { Migration } from "./migration.ts";

/**
 * The platform's own migrations (versions 1-99). Modules number theirs from
 * their own ranges, registered in src/modules/index.ts.
 */
export const platformMigrations: Migration[] = [
  {
    version: 1,
    name: "platform_extensions",
    // pg_trgm serves fuzzy search everywhere. pgvector ships with the embedded
    // profile; on a server it is created when the server has it installed, and
    // modules that store embeddings check `vectorAvailable` before relying on it.
    async up(db) {
      await sql`create extension if not exists pg_trgm`.execute(db);
      await sql`
        do $$ begin
          if exists (select 1 from pg_available_extensions where name = 'vector') then
            create extension if not exists vector;
          end if;
        end $$`.execute(db);
    },
    // Extensions are left in place on the way down: other schemas in the same
    // database may rely on them, and dropping them is never needed to re-apply.
    async down() {},
  },
];
