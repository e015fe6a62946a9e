import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  PostgresDialect,
  type PostgresDialectConfig,
  PostgresDriver,
  type PostgresPool,
  type PostgresPoolClient,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import type { Pool } from "pg";
import type { DatabaseBreaker } from "./database-breaker.ts";
import { preparedStatementName } from "./prepared-statements.ts";
import { DatabaseUnavailableError, isConnectionFailure } from "./sqlstate.ts";

/**
 * Kysely's Postgres dialect with one addition: a query that meets a dropped
 * connection is run again on a fresh connection, but only when doing so
 * cannot apply anything twice:
 *
 * - acquiring a connection is retried (nothing has been sent yet);
 * - a SELECT outside a transaction is retried once (it changes nothing);
 * - a write, a raw statement, or anything inside a transaction is not: its
 *   outcome on the server is unknown, so the caller gets a
 *   DatabaseUnavailableError (rendered as 503) and decides.
 *
 * With a circuit breaker (database-breaker.ts), taking a connection and
 * every statement go through it, so an outage fails fast once the breaker
 * has opened; a rollback never does (a connection must not go back to the
 * pool inside a transaction because the breaker refused its ROLLBACK).
 */
export class RetryingPostgresDialect extends PostgresDialect {
  readonly #config: PostgresDialectConfig;
  constructor(config: PostgresDialectConfig & { connectAttempts?: number; breaker?: DatabaseBreaker | null }) {
    super(config);
    this.#config = config;
    this.connectAttempts = config.connectAttempts ?? 3;
    this.breaker = config.breaker ?? null;
  }
  private readonly connectAttempts: number;
  private readonly breaker: DatabaseBreaker | null;

  override createDriver(): Driver {
    return new RetryingPostgresDriver(this.#config, this.connectAttempts, this.breaker);
  }
}

class RetryingPostgresDriver extends PostgresDriver {
  constructor(
    config: PostgresDialectConfig,
    private readonly connectAttempts: number,
    readonly breaker: DatabaseBreaker | null,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = this.breaker ? await this.breaker.execute(() => this.acquireInner()) : await this.acquireInner();
    return new RetryingConnection(inner, this);
  }

  /** Takes a raw connection from the pool, retrying connection failures with a short backoff. */
  async acquireInner(): Promise<DatabaseConnection> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await super.acquireConnection();
      } catch (error) {
        if (!isConnectionFailure(error)) throw error;
        if (attempt >= this.connectAttempts) throw new DatabaseUnavailableError(error);
        await delay(50 * 2 ** attempt);
      }
    }
  }

  async releaseInner(connection: DatabaseConnection): Promise<void> {
    await super.releaseConnection(connection as Parameters<PostgresDriver["releaseConnection"]>[0]);
  }

  override async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const wrapped = connection as RetryingConnection;
    wrapped.inTransaction = true;
    await super.beginTransaction(connection, settings);
  }
  override async commitTransaction(connection: DatabaseConnection) {
    try {
      await super.commitTransaction(connection);
    } finally {
      (connection as RetryingConnection).inTransaction = false;
    }
  }
  override async rollbackTransaction(connection: DatabaseConnection) {
    const wrapped = connection as RetryingConnection;
    wrapped.unguarded = true;
    try {
      await super.rollbackTransaction(connection);
    } finally {
      wrapped.inTransaction = false;
      wrapped.unguarded = false;
    }
  }
  override async releaseConnection(connection: DatabaseConnection) {
    // A retry that gave the broken connection back but failed to get another holds nothing.
    if ((connection as RetryingConnection).released) return;
    await super.releaseConnection(
      (connection as RetryingConnection).inner as Parameters<PostgresDriver["releaseConnection"]>[0],
    );
  }
}

class RetryingConnection implements DatabaseConnection {
  inTransaction = false;
  /** Set while `inner` has been handed back and no replacement is held yet. */
  released = false;
  /** Set during a rollback, which the breaker must not refuse. */
  unguarded = false;
  constructor(
    public inner: DatabaseConnection,
    private readonly driver: RetryingPostgresDriver,
  ) {}

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const breaker = this.driver.breaker;
    return breaker && !this.unguarded ? breaker.execute(() => this.#execute<R>(compiled)) : this.#execute<R>(compiled);
  }

  async #execute<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return await this.inner.executeQuery<R>(compiled);
    } catch (error) {
      if (!isConnectionFailure(error)) throw error;
      if (this.inTransaction || compiled.query.kind !== "SelectQueryNode") throw new DatabaseUnavailableError(error);
      // Hand the broken connection back first (the pool discards it), so a
      // full pool has room for the replacement; then carry on with the new one.
      await this.driver.releaseInner(this.inner);
      this.released = true;
      this.inner = await this.driver.acquireInner();
      this.released = false;
      try {
        return await this.inner.executeQuery<R>(compiled);
      } catch (retryError) {
        throw isConnectionFailure(retryError) ? new DatabaseUnavailableError(retryError) : retryError;
      }
    }
  }

  streamQuery<R>(compiled: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiled, chunkSize);
  }
}

/**
 * Wraps a pg pool so a client whose query failed on the connection is
 * destroyed when released, instead of going back to the idle list where the
 * next caller (or the retry above) would pick it up again.
 */
export function discardingBrokenClients(pool: Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      let broken = false;
      const query = (...args: unknown[]) => {
        const name = typeof args[0] === "string" ? preparedStatementName(args[0]) : undefined;
        if (name) args = [{ name, text: args[0], values: args[1] }];
        const result = (client.query as (...a: unknown[]) => unknown)(...args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          if (isConnectionFailure(error)) broken = true;
          throw error;
        });
      };
      return {
        query,
        release: () => client.release(broken || undefined),
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

function delay(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
