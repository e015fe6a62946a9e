import type { Kysely } from "kysely";

/**
 * One numbered schema change. `up` and `down` each run inside their own
 * transaction (Postgres DDL is transactional), so a migration that fails
 * half-way leaves nothing behind. They receive an untyped Kysely because a
 * migration describes the schema as it was at that point in history, not as
 * the current Tables interface says it is now.
 */
export interface Migration {
  /** Unique across Strata; applied in ascending order. */
  version: number;
  /** Short snake_case description, e.g. `platform_extensions`. */
  name: string;
  up(db: Kysely<any>): Promise<void>;
  down(db: Kysely<any>): Promise<void>;
}
