import { changesMigrations } from "../platform/changes/migrations.ts";
import type { Database } from "../platform/database/database.ts";
import { embeddingsMigrations } from "../platform/embeddings/migrations.ts";
import { identityMigrations } from "../platform/identity/migrations.ts";
import { jobsMigrations } from "../platform/jobs/migrations.ts";
import type { Migration } from "../platform/migrations/migration.ts";
import { Migrator } from "../platform/migrations/migrator.ts";
import { platformMigrations } from "../platform/migrations/platform-migrations.ts";
import type { StrataModule } from "./module.ts";

/** The platform's migrations followed by every registered module's. */
export function allMigrations(modules: readonly StrataModule[]): Migration[] {
  return [
    ...platformMigrations,
    ...identityMigrations,
    ...jobsMigrations,
    ...embeddingsMigrations,
    ...changesMigrations,
    ...modules.flatMap((m) => m.migrations),
  ];
}

export function createMigrator(database: Database, modules: readonly StrataModule[]): Migrator {
  return new Migrator(database.db, allMigrations(modules));
}
