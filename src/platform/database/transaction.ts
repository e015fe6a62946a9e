import { type Kysely, sql, type Transaction } from "kysely";
import { isTransactionConflict } from "./sqlstate.ts";

let savepointCounter = 0;

export interface TransactionOptions {
  /** Run the whole callback again (up to this many times) on a serialization failure or deadlock. */
  retryConflicts?: number;
  isolation?: "read committed" | "repeatable read" | "serializable";
}

/** Callbacks to run once a transaction opened here has committed or rolled back, by transaction. */
const endings = new WeakMap<object, (() => Promise<void>)[]>();

/**
 * Runs `fn` in a transaction scope. Given the database, it opens a
 * transaction; given a transaction already open, it nests with a savepoint,
 * so a failing inner scope rolls back alone and the outer one carries on.
 * Functions that write can therefore take `Kysely | Transaction` and let the
 * caller decide what is atomic.
 */
export async function transaction<DB, T>(
  dbOrTrx: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  if (dbOrTrx.isTransaction) return inSavepoint(dbOrTrx as Transaction<DB>, fn);
  const attempts = 1 + (options.retryConflicts ?? 0);
  for (let attempt = 1; ; attempt++) {
    let opened: Transaction<DB> | undefined;
    let failed = false;
    try {
      let builder = dbOrTrx.transaction();
      if (options.isolation) builder = builder.setIsolationLevel(options.isolation);
      return await builder.execute((trx) => {
        opened = trx;
        endings.set(trx, []);
        return fn(trx);
      });
    } catch (error) {
      failed = true;
      if (attempt >= attempts || !isTransactionConflict(error)) throw error;
    } finally {
      if (opened) await runEndings(opened, failed);
    }
  }
}

/**
 * Runs `fn` once the transaction `trx` has committed or rolled back, before
 * `transaction()` returns or throws: for work outside the database that must
 * follow the outcome (and, after a commit, happen before the caller answers).
 * `trx` may be any scope nested in the transaction; the callback waits for
 * the outermost one. Throws when `trx` was not opened by `transaction()`,
 * since then nothing would ever run it.
 */
export function afterTransaction<DB>(trx: Kysely<DB>, fn: () => Promise<void>): void {
  const list = endings.get(trx);
  if (!list) throw new Error("afterTransaction needs a transaction opened by transaction()");
  list.push(fn);
}

/** Every callback runs; after a commit the first failure is thrown, after a rollback the transaction's own error wins. */
async function runEndings(trx: object, failed: boolean): Promise<void> {
  const list = endings.get(trx) ?? [];
  endings.delete(trx);
  let first: { error: unknown } | null = null;
  for (const fn of list) {
    try {
      await fn();
    } catch (error) {
      first ??= { error };
    }
  }
  if (first && !failed) throw first.error;
}

async function inSavepoint<DB, T>(trx: Transaction<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const name = sql.id(`strata_sp_${++savepointCounter}`);
  await sql`savepoint ${name}`.execute(trx);
  try {
    const result = await fn(trx);
    await sql`release savepoint ${name}`.execute(trx);
    return result;
  } catch (error) {
    await sql`rollback to savepoint ${name}`.execute(trx);
    throw error;
  }
}
