import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { vector } from "@electric-sql/pglite-pgvector";
import { Kysely, sql } from "kysely";
import type pg from "pg";
import type { DatabaseConfig } from "../../config/config.ts";
import { DatabaseBreaker } from "./database-breaker.ts";
import { Foreground } from "./foreground.ts";
import { PGliteDialect } from "./pglite-dialect.ts";
import { pgliteWalOptions } from "./pglite-wal.ts";
import { discardingBrokenClients, RetryingPostgresDialect } from "./retrying-postgres-dialect.ts";
import type { Tables } from "./tables.ts";

// Postgres int8 and numeric arrive as strings from both drivers, so a count
// never silently loses precision and both profiles return the same shapes.
const INT8_OID = 20;
const BYTEA_OID = 17;

/**
 * bytea arrives as `\x` and hex digits. PGlite's own parser turns each byte
 * with parseInt into a typed array, which costs about 0.1 ms per kilobyte
 * (7 ms for a chain of 40 version deltas); Buffer decodes hex natively.
 */
function parseBytea(value: string): Buffer {
  return Buffer.from(value.slice(2), "hex");
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  readonly driver: "pglite" | "postgres";
  /** The primary: every write, and every read that must see the latest write. */
  readonly db: Kysely<Tables>;
  /**
   * Reads that tolerate replica lag (lists, search, dashboards). Served by
   * DATABASE_READ_URL when it is set, by the primary otherwise.
   */
  readonly read: Kysely<Tables>;
  /** Round trip to the primary; resolves to the latency in milliseconds. */
  ping(): Promise<number>;
  /** The circuit breaker around the primary (database-breaker.ts); null on PGlite, which runs in the process. */
  readonly breaker: DatabaseBreaker | null;
  pools(): { primary: PoolStats; read: PoolStats | null };
  /**
   * LISTEN on the embedded database (null on Postgres). PGlite hands a
   * committed transaction's notifications to their callbacks on microtasks
   * queued while it parses the COMMIT's (or the lone statement's) reply, so
   * by the time the writer's `await` returns, every callback has run: a
   * cache dropped here can never be read stale by the writer or anyone after
   * it. Postgres delivers NOTIFY on another connection, after the writer's
   * reply, which cannot promise that (docs/architecture.md, hot path).
   * Resolves once the LISTEN is in effect; the returned function stops it.
   */
  readonly listen: ((channel: string, onPayload: (payload: string) => void) => Promise<() => Promise<void>>) | null;
  /** Requests in flight, which background steps let go first on the embedded database (foreground.ts). */
  readonly foreground: Foreground;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Called once per statement sent (BEGIN and COMMIT included), for the round-trip count in /metrics. */
  onQuery?: (pool: "primary" | "read") => void;
}

export async function openDatabase(config: DatabaseConfig, options: DatabaseOptions = {}): Promise<Database> {
  return config.driver === "pglite" ? openPGlite(config, options) : openPostgres(config, options);
}

/** Kysely's log hook, which sees every statement a connection runs. */
function counting(options: DatabaseOptions, pool: "primary" | "read") {
  const onQuery = options.onQuery;
  return onQuery ? { log: () => onQuery(pool) } : {};
}

/**
 * Session settings for pgvector's HNSW indexes, on every connection (they
 * are placeholders, harmless, where pgvector is not installed):
 * - ef_search 100: an HNSW scan returns at most ef_search rows, and hybrid
 *   search asks for 50 vector candidates (pgvector's default, 40, would cut
 *   them short); it also lifts recall@10 on real vectors;
 * - iterative_scan relaxed_order: a scan filtered to the caller's
 *   resources keeps walking the graph until it has enough of them, instead
 *   of returning the few of the first ef_search that are theirs. Callers
 *   order the rows they get again (the order may be slightly relaxed).
 */
export const HNSW_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  "hnsw.ef_search": "100",
  "hnsw.iterative_scan": "relaxed_order",
};

async function openPGlite(
  config: Extract<DatabaseConfig, { driver: "pglite" }>,
  options: DatabaseOptions,
): Promise<Database> {
  if (config.dataDir) await mkdir(config.dataDir, { recursive: true });
  const pglite = await PGlite.create(config.dataDir ?? undefined, {
    ...(await pgliteWalOptions(config.dataDir)),
    extensions: { vector, pg_trgm },
    parsers: { [INT8_OID]: (value: string) => value, [BYTEA_OID]: parseBytea },
  });
  await pglite.exec(`set statement_timeout = ${Math.trunc(config.statementTimeoutMs)}`);
  for (const [name, value] of Object.entries(HNSW_SESSION_SETTINGS)) await pglite.exec(`set ${name} = '${value}'`);
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Tables>({ dialect, ...counting(options, "primary") });
  const listeners = new Map<string, Set<(payload: string) => void>>();
  pglite.onNotification((channel, payload) => {
    for (const listener of listeners.get(channel) ?? []) listener(payload);
  });
  return {
    driver: "pglite",
    db,
    read: db,
    foreground: new Foreground(true),
    ping: () => timed(async () => void (await sql`select 1`.execute(db))),
    breaker: null,
    pools: () => {
      const inUse = dialect.inUse;
      return { primary: { total: 1, idle: inUse === 0 ? 1 : 0, waiting: Math.max(0, inUse - 1) }, read: null };
    },
    async listen(channel, onPayload) {
      let channelListeners = listeners.get(channel);
      if (!channelListeners) {
        channelListeners = new Set();
        listeners.set(channel, channelListeners);
      }
      channelListeners.add(onPayload);
      // Sent through the dialect's queue, never PGlite's own listen(): on the
      // one connection, a LISTEN sent beside the queue could land inside
      // someone else's open transaction and vanish with its rollback.
      await sql`listen ${sql.id(channel)}`.execute(db);
      return async () => {
        channelListeners.delete(onPayload);
        if (channelListeners.size === 0) {
          listeners.delete(channel);
          await sql`unlisten ${sql.id(channel)}`.execute(db);
        }
      };
    },
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}

async function openPostgres(
  config: Extract<DatabaseConfig, { driver: "postgres" }>,
  options: DatabaseOptions,
): Promise<Database> {
  // Loaded here, so the embedded profile never loads the pg driver.
  const { default: pgDriver } = await import("pg");
  const makePool = (connectionString: string) => {
    const pool = new pgDriver.Pool({
      connectionString,
      max: config.poolMax,
      min: Math.min(config.poolMin ?? 0, config.poolMax),
      statement_timeout: config.statementTimeoutMs,
      options: Object.entries(HNSW_SESSION_SETTINGS)
        .map(([name, value]) => `-c ${name}=${value}`)
        .join(" "),
      connectionTimeoutMillis: 5_000,
      idleTimeoutMillis: config.idleTimeoutMs ?? 30_000,
      application_name: "strata",
    });
    // An idle client whose server went away emits 'error'; the pool drops it.
    // Without a listener that event would crash the process.
    pool.on("error", () => {});
    // A checked-out client whose server goes away between two statements
    // (say, mid-transaction) also emits 'error', and pg-pool only listens on
    // idle clients. Listening here keeps the process alive; the client's next
    // statement then fails as a connection failure and the pool discards it.
    pool.on("connect", (client) => {
      client.on("error", () => {});
    });
    return pool;
  };
  const primaryPool = makePool(config.url);
  const readPool = config.readUrl ? makePool(config.readUrl) : null;
  // One breaker per server: the replica failing does not stop writes, nor the primary failing replica reads.
  const breakerOptions = {
    failures: config.breakerFailures ?? 3,
    halfOpenAfterMs: config.breakerHalfOpenMs ?? 30_000,
  };
  const breaker = new DatabaseBreaker(breakerOptions);
  const db = new Kysely<Tables>({
    dialect: new RetryingPostgresDialect({ pool: discardingBrokenClients(primaryPool), breaker }),
    ...counting(options, "primary"),
  });
  const read = readPool
    ? new Kysely<Tables>({
        dialect: new RetryingPostgresDialect({
          pool: discardingBrokenClients(readPool),
          breaker: new DatabaseBreaker(breakerOptions),
        }),
        ...counting(options, "read"),
      })
    : db;
  const stats = (pool: pg.Pool): PoolStats => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  });
  return {
    driver: "postgres",
    foreground: new Foreground(false),
    db,
    read,
    ping: () => timed(async () => void (await sql`select 1`.execute(db))),
    breaker,
    pools: () => ({ primary: stats(primaryPool), read: readPool ? stats(readPool) : null }),
    listen: null,
    async close() {
      await db.destroy();
      if (read !== db) await read.destroy();
    },
  };
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}
