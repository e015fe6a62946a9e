import type { Transaction } from "kysely";
import type { Tables } from "../database/tables.ts";

/**
 * Moving what an anonymous session owns to the account that claims it.
 *
 * Each module that stores owned rows registers one hook. All hooks run inside
 * the same database transaction as the registration or login, so either every
 * row moves or none does. Work outside the database (copying blobs to keys
 * under the user) is done in the hook before commit, and the originals are
 * removed only once the move is durable; if the transaction rolls back,
 * `afterRollback` callbacks delete the copies, and the anonymous data is
 * exactly as it was.
 */
export interface TransferContext {
  trx: Transaction<Tables>;
  anonymousSessionId: string;
  /** When the claimed session would have expired (retention of what it leaves behind). */
  anonymousSessionExpiresAt: Date;
  /** The tenant the anonymous rows had (the public organization). */
  fromOrganizationId: string;
  userId: string;
  /** The user's personal organization, where the rows go. */
  toOrganizationId: string;
  /** Runs after the transaction commits; failures there are logged, not raised. */
  afterCommit(fn: () => Promise<void>): void;
  /** Runs if the transaction rolls back (any hook failed): undo work outside the database. */
  afterRollback(fn: () => Promise<void>): void;
}

export type OwnershipTransferHook = (context: TransferContext) => Promise<void>;

export class OwnershipTransferHooks {
  readonly #hooks = new Map<string, OwnershipTransferHook>();

  register(name: string, hook: OwnershipTransferHook): void {
    if (this.#hooks.has(name)) throw new Error(`an ownership transfer hook named ${name} is already registered`);
    this.#hooks.set(name, hook);
  }

  unregister(name: string): void {
    this.#hooks.delete(name);
  }

  /** Runs every hook in registration order; the first failure aborts (and so rolls back) the transfer. */
  async run(context: TransferContext): Promise<void> {
    for (const [name, hook] of this.#hooks) {
      try {
        await hook(context);
      } catch (error) {
        throw new OwnershipTransferError(name, error);
      }
    }
  }
}

export class OwnershipTransferError extends Error {
  constructor(
    readonly hook: string,
    cause: unknown,
  ) {
    super(`ownership transfer hook ${hook} failed`, { cause });
    this.name = "OwnershipTransferError";
  }
}
