import { type Kysely, sql } from "kysely";
import { transaction } from "../database/transaction.ts";
import type { Migration } from "./migration.ts";

/**
 * Strata's migrator. Kysely ships one, but it runs a whole batch in a single
 * transaction and keeps no room for per-migration status; this one gives each
 * migration its own transaction (a failure rolls back that migration alone and
 * stops the run), records every applied version, and holds a Postgres
 * advisory lock for the whole run so two processes never migrate at once.
 */

const TABLE = "strata_migrations";
/** Arbitrary constant: the advisory lock id every Strata process agrees on. */
const LOCK_ID = 727_365_001;

export interface MigrationStatus {
  version: number;
  name: string;
  appliedAt: Date | null;
  /** "unknown": recorded as applied, but this build has no such migration (a newer build ran it). */
  state: "applied" | "pending" | "unknown";
}

export interface MigrationRun {
  applied: { version: number; name: string }[];
}

export class MigrationError extends Error {
  constructor(
    readonly migration: { version: number; name: string },
    readonly direction: "up" | "down",
    cause: unknown,
  ) {
    super(
      `migration ${migration.version} ${migration.name} failed (${direction}); it was rolled back: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
    this.name = "MigrationError";
  }
}

export class Migrator {
  readonly #migrations: readonly Migration[];

  constructor(
    private readonly db: Kysely<any>,
    migrations: readonly Migration[],
  ) {
    this.#migrations = checkOrder(migrations);
  }

  async status(): Promise<MigrationStatus[]> {
    const table = await sql<{ exists: boolean }>`select to_regclass(${TABLE}) is not null as exists`.execute(this.db);
    const applied = table.rows[0]?.exists ? await this.applied(this.db) : new Map();
    const known = new Set(this.#migrations.map((m) => m.version));
    const rows: MigrationStatus[] = this.#migrations.map((m) => ({
      version: m.version,
      name: m.name,
      appliedAt: applied.get(m.version)?.appliedAt ?? null,
      state: applied.has(m.version) ? "applied" : "pending",
    }));
    for (const [version, row] of applied) {
      if (!known.has(version)) rows.push({ version, name: row.name, appliedAt: row.appliedAt, state: "unknown" });
    }
    return rows.sort((a, b) => a.version - b.version);
  }

  /** Applies every pending migration in order; stops at the first failure. */
  async up(): Promise<MigrationRun> {
    return this.locked(async (conn) => {
      const applied = await this.applied(conn);
      const done: MigrationRun["applied"] = [];
      for (const migration of this.#migrations) {
        if (applied.has(migration.version)) continue;
        await this.step(conn, migration, "up");
        done.push({ version: migration.version, name: migration.name });
      }
      return { applied: done };
    });
  }

  /** Reverts the `count` most recently applied migrations, newest first. */
  async down(count = 1): Promise<MigrationRun> {
    return this.locked(async (conn) => {
      const applied = await this.applied(conn);
      const byVersion = new Map(this.#migrations.map((m) => [m.version, m]));
      const newest = [...applied.keys()].sort((a, b) => b - a).slice(0, count);
      const done: MigrationRun["applied"] = [];
      for (const version of newest) {
        const migration = byVersion.get(version);
        if (!migration) {
          throw new Error(
            `migration ${version} is applied but unknown to this build; revert it with the build that has it`,
          );
        }
        await this.step(conn, migration, "down");
        done.push({ version, name: migration.name });
      }
      return { applied: done };
    });
  }

  private async step(conn: Kysely<any>, migration: Migration, direction: "up" | "down") {
    try {
      await transaction(conn, async (trx) => {
        await migration[direction](trx);
        if (direction === "up") {
          await trx.insertInto(TABLE).values({ version: migration.version, name: migration.name }).execute();
        } else {
          await trx.deleteFrom(TABLE).where("version", "=", migration.version).execute();
        }
      });
    } catch (error) {
      throw new MigrationError(migration, direction, error);
    }
  }

  /** Runs `fn` on one connection while holding the migration lock; other migrators wait. */
  private async locked<T>(fn: (conn: Kysely<any>) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${sql.lit(LOCK_ID)})`.execute(conn);
      try {
        await this.ensureTable(conn);
        return await fn(conn);
      } finally {
        await sql`select pg_advisory_unlock(${sql.lit(LOCK_ID)})`.execute(conn);
      }
    });
  }

  private async ensureTable(db: Kysely<any>) {
    await db.schema
      .createTable(TABLE)
      .ifNotExists()
      .addColumn("version", "integer", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("applied_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  }

  private async applied(db: Kysely<any>): Promise<Map<number, { name: string; appliedAt: Date }>> {
    const rows = await db.selectFrom(TABLE).select(["version", "name", "applied_at"]).execute();
    return new Map(rows.map((r) => [Number(r.version), { name: String(r.name), appliedAt: new Date(r.applied_at) }]));
  }
}

function checkOrder(migrations: readonly Migration[]): readonly Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  for (let i = 0; i < sorted.length; i++) {
    const m = sorted[i] as Migration;
    if (!Number.isInteger(m.version) || m.version <= 0) throw new Error(`migration ${m.name} has an invalid version`);
    if (i > 0 && (sorted[i - 1] as Migration).version === m.version) {
      throw new Error(`two migrations share version ${m.version}`);
    }
  }
  return sorted;
}
