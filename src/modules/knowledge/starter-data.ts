import { type Kysely, sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { SeedOutcome } from "../../runtime/module.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetEntries } from "./entry-cache.ts";
import { type AnyKind, practices, rules, templates } from "./kinds.ts";
import { recordEntryChange } from "./knowledge-changes.ts";
import { STARTER_PRACTICES, STARTER_RULES, STARTER_TEMPLATES } from "./starter-entries.ts";

const STARTER: [AnyKind, readonly { key: string }[]][] = [
  [rules, STARTER_RULES],
  [practices, STARTER_PRACTICES],
  [templates, STARTER_TEMPLATES],
];

export const STARTER_COUNT = STARTER.reduce((n, [, entries]) => n + entries.length, 0);

/**
 * Loads Strata's starter rules, practices and templates as system entries.
 * Idempotent: an entry is matched by its key among system entries, added
 * when missing, rewritten only when its content differs (so updated_at and
 * the embeddings move only for a real change), left alone otherwise. Each
 * kind loads in one transaction.
 */
export async function loadStarterData(
  platform: Platform,
  progress?: (done: number, total: number) => void,
): Promise<SeedOutcome> {
  const outcome: SeedOutcome = { added: 0, updated: 0, unchanged: 0 };
  let done = 0;
  for (const [spec, entries] of STARTER) {
    const changed: string[] = [];
    await transaction(platform.database.db, async (typed) => {
      const trx = typed as unknown as Kysely<any>;
      for (const entry of entries) {
        const columns = spec.columns(entry);
        const names = Object.keys(columns);
        const row = await trx
          .insertInto(spec.table)
          .values({ ...columns, [spec.keyColumn]: entry.key, organization_id: null })
          .onConflict((oc) =>
            oc
              .constraint(`${spec.table}_key`)
              .doUpdateSet({
                ...Object.fromEntries(names.map((n) => [n, sql.ref(`excluded.${n}`)])),
                updated_at: sql`now()`,
              })
              .where(
                sql<boolean>`(${sql.join(names.map((n) => sql.ref(`${spec.table}.${n}`)))}) is distinct from (${sql.join(
                  names.map((n) => sql.ref(`excluded.${n}`)),
                )})`,
              ),
          )
          .returning(["id", sql<boolean>`xmax = 0`.as("inserted")])
          .executeTakeFirst();
        if (!row) outcome.unchanged += 1;
        else {
          outcome[row.inserted ? "added" : "updated"] += 1;
          changed.push(row.id);
          const stored = await trx
            .selectFrom(spec.table)
            .selectAll()
            .where("id", "=", row.id)
            .executeTakeFirstOrThrow();
          const problems = spec.problems?.(stored) ?? [];
          if (problems.length > 0) throw errors.validationFailed(problems);
          await platform.vectors.queue(typed, spec.source, [{ id: row.id, text: spec.embedText(stored) }]);
          await recordEntryChange(platform, typed, spec, stored, row.inserted ? null : stored);
        }
        progress?.(++done, STARTER_COUNT);
      }
    });
    await forgetEntries(platform, spec, changed);
  }
  return outcome;
}
