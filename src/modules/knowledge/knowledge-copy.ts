import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { LocalCopy } from "../../platform/local-copy/local-copy.ts";
import type { Platform } from "../../runtime/platform.ts";
import { KINDS } from "./kinds.ts";
import type { KnowledgeKind } from "./schemas.ts";

/** One row of a knowledge table, as the copy holds it: which kind, and the row as the database gives it. */
export interface CopiedRow {
  kind: KnowledgeKind;
  row: Record<string, unknown> & { id: string; organization_id: string | null; created_at: Date };
}

/** Where a process hears that the catalog changed (a version) or may have changed (empty). */
export const COPY_CHANNEL = "knowledge:copy";
/** How often the job checks the copies against the database: the longest a missed change message leaves one behind. */
export const COPY_CHECK_SCHEDULE = "*/30 * * * * *";

const DATES = ["created_at", "updated_at", "deactivated_at"] as const;

function revive(copied: CopiedRow): CopiedRow {
  const row = { ...copied.row };
  for (const column of DATES) if (typeof row[column] === "string") row[column] = new Date(row[column] as string);
  return { kind: copied.kind, row: row as CopiedRow["row"] };
}

/**
 * The catalog's version: each table's row count, latest change and, for
 * templates, total use. Any write a copy must see moves one of them (every
 * write sets updated_at; the archive job removes rows; a use counts).
 */
export async function catalogVersion(db: Kysely<Tables>): Promise<string> {
  const result = await sql<{ version: string }>`
    select concat_ws('|',
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') from knowledge_rules),
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') from knowledge_practices),
      (select count(*) || ':' || coalesce(max(updated_at)::text, '') || ':' || coalesce(sum(usage_count), 0)
        from knowledge_templates)
    ) as version`.execute(db);
  return result.rows[0]?.version ?? "";
}

/**
 * The knowledge module's local read-only copy (platform/local-copy): every
 * rule, practice and template of every organization, served with the same
 * access rules while the database is down (copy-reads.ts). The knowledge
 * base is small (thousands of entries, not millions), so each process
 * holds all of it.
 *
 * It keeps in step without a timer of its own: every knowledge write
 * publishes on `knowledge:copy` once committed, and a recurring job
 * publishes the database's version there every 30 s; each process, on
 * hearing either, reloads its copy if the version differs, or records
 * that the copy is current. One reload runs at a time; messages arriving
 * meanwhile ask for one more.
 */
export class KnowledgeCopy {
  readonly copy: LocalCopy<CopiedRow>;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(private readonly platform: Platform) {
    this.copy = platform.localCopies.copy<CopiedRow>("knowledge", revive);
  }

  /** Loads what the last run left on disk, syncs from the database, and follows the channel; returns the stop. */
  async start(): Promise<() => Promise<void>> {
    await this.copy.load();
    const unsubscribe = await this.platform.kv.subscribe(COPY_CHANNEL, (version) => this.#heard(version));
    this.sync();
    return async () => {
      await unsubscribe();
      await this.#running;
    };
  }

  /** Asks for a sync; resolves when the one it started (or joined) ends. Failures are logged: the copy stays as it was. */
  sync(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#reload();
        } catch (error) {
          this.platform.logger.warn({ err: error }, "knowledge copy sync failed; it keeps its last rows");
        }
      } while (this.#again);
      this.#running = null;
    })();
    return this.#running;
  }

  #heard(version: string): void {
    if (version !== "" && version === this.copy.version) this.copy.verified();
    else void this.sync();
  }

  async #reload(): Promise<void> {
    // One snapshot: the version and the rows agree.
    const { rows, version } = await transaction(
      this.platform.database.db,
      async (trx) => {
        const version = await catalogVersion(trx);
        if (version === this.copy.version) return { rows: null, version };
        const rows: CopiedRow[] = [];
        for (const spec of KINDS) {
          const found = await (trx as Kysely<any>).selectFrom(spec.table).selectAll().execute();
          for (const row of found) rows.push({ kind: spec.kind, row: row as CopiedRow["row"] });
        }
        return { rows, version };
      },
      { isolation: "repeatable read" },
    );
    if (rows === null) this.copy.verified();
    else await this.copy.replace(rows, version);
  }
}

/** Tells every process the catalog changed (after a write commits); a failure only delays the copies to the next check. */
export async function announceChange(platform: Platform): Promise<void> {
  try {
    await platform.kv.publish(COPY_CHANNEL, "");
  } catch (error) {
    platform.logger.warn({ err: error }, "could not announce a knowledge change; copies catch up at the next check");
  }
}

/** The recurring check's task: publishes the database's version for every process's copy. */
export async function publishCatalogVersion(platform: Platform): Promise<void> {
  await platform.kv.publish(COPY_CHANNEL, await catalogVersion(platform.database.db));
}
