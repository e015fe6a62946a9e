import { type Kysely, sql, type Transaction } from "kysely";
import { isTransactionConflict } from "./sqlstate.ts";

let savepointCounter = 0;

export interface TransactionOptions {
  /** Run the whole callback again (up to this many times) on a serialization failure or deadlock. */
  retryConflicts?: number;
  isolation?: "read committed" | "repeatable read" | "serializable";
}

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
    try {
      let builder = dbOrTrx.transaction();
      if (options.isolation) builder = builder.setIsolationLevel(options.isolation);
      return await builder.execute(fn);
    } catch (error) {
      if (attempt >= attempts || !isTransactionConflict(error)) throw error;
    }
  }
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
