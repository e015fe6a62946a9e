import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetEntries } from "./entry-cache.ts";
import { KINDS } from "./kinds.ts";

/** Seed 004's archive strategy: inactive records move to the archive tables after two years. */
export const ARCHIVE_AFTER = "2 years";
/** Daily, at a quiet hour; a missed night is caught up by the next. */
export const ARCHIVE_SCHEDULE = "40 3 * * *";
/** Entries moved per transaction, so a large backlog never holds long locks. */
const BATCH = 500;

/**
 * Moves every entry deleted (inactive) for two years or more to its kind's
 * archive table, as it was, with when it moved; its vectors go with it (an
 * archived entry is no longer searched). Each batch is one statement, a
 * delete feeding an insert, so an entry is never in both tables or in
 * neither. Returns how many moved.
 */
export async function archiveInactiveEntries(platform: Platform): Promise<number> {
  let moved = 0;
  for (const spec of KINDS) {
    for (;;) {
      const ids = await transaction(platform.database.db, async (trx) => {
        const result = await sql<{ id: string }>`
          with due as (
            select id from ${sql.table(spec.table)}
            where not ${sql.ref(spec.activeColumn)} and deactivated_at < now() - ${ARCHIVE_AFTER}::interval
            order by deactivated_at
            limit ${BATCH}
            for update skip locked
          ),
          gone as (
            delete from ${sql.table(spec.table)} t using due where t.id = due.id returning t.*
          )
          insert into ${sql.table(`${spec.table}_archive`)} select gone.*, now() from gone
          returning id`.execute(trx);
        const batch = result.rows.map((r) => r.id);
        await platform.vectors.forget(trx, spec.source, batch);
        return batch;
      });
      await forgetEntries(platform, spec, ids);
      moved += ids.length;
      if (ids.length < BATCH) break;
    }
  }
  return moved;
}
