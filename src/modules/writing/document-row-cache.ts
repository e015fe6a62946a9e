import { sql } from "kysely";
import { LocalCache } from "../../platform/cache/local-cache.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { DocumentRow } from "./documents.ts";

/**
 * The channel migration 120's trigger announces a changed or deleted row's
 * id on. The migration writes the name out for itself (migrations never
 * import live code), so the two must agree; the row cache's tests fail if
 * they do not.
 */
const DOCUMENT_CHANGED_CHANNEL = "strata_document_changed";

/**
 * `documents` rows held in this process on the embedded profile, so a read
 * of a document that has not changed asks PGlite nothing (its statements run
 * on the main thread: a few hundred microseconds of CPU each).
 *
 * The database invalidates it: migration 120's trigger announces the id of
 * every updated or deleted row on DOCUMENT_CHANGED_CHANNEL, and PGlite runs
 * the callback (which drops the entry) before the writing statement's or
 * COMMIT's promise resolves (see Database.listen). So once a write is
 * acknowledged, no read in this process can see the row as it was.
 *
 * A load racing a write must not store the row it read before that write:
 * the cache counts invalidations, and a load that saw the count change while
 * its SELECT ran returns its row without storing it (LocalCache.getOrLoad).
 * The SELECT and the COMMIT run one after the other on PGlite's single
 * connection, so the write's notification arrives either before the load's
 * store (the count has moved: not stored) or after it (the entry is dropped).
 *
 * Only the embedded profile has it: the data directory's lock guarantees one
 * process owns the database, so its trigger sees every write and the
 * notification comes back on the writer's own connection. On Postgres,
 * other processes write and their NOTIFY reaches this one after their client
 * has its answer, so that client could read its own write stale here; the
 * server profile checks each cached row against the document's generation
 * instead (document-generations.ts).
 */
const MAX_ROWS = 10_000;

/** How soon a process whose database lacks the trigger (not migrated yet) looks again. */
const RECHECK_MS = 5_000;

/** Ids as the database prints them; any other spelling (upper case, braces) skips the cache, whose keys must match the trigger's payload. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface CacheState {
  /** Null until the LISTEN is in effect (and for good on Postgres, or if it failed). */
  rows: LocalCache<DocumentRow> | null;
}

const perPlatform = new WeakMap<Platform, CacheState>();

/**
 * The platform's document row cache, or null when reads must go to the
 * database (the server profile, or the first reads while the LISTEN starts).
 */
export function documentRowCache(platform: Platform): LocalCache<DocumentRow> | null {
  let state = perPlatform.get(platform);
  if (!state) {
    state = { rows: null };
    perPlatform.set(platform, state);
    const listen = platform.database.listen;
    if (listen) startListening(platform, listen, state);
  }
  return state.rows;
}

function startListening(
  platform: Platform,
  listen: NonNullable<Platform["database"]["listen"]>,
  state: CacheState,
): void {
  const rows = new LocalCache<DocumentRow>("documents", { max: MAX_ROWS, ttlMs: 0 }, platform.metrics);
  // Handed out only once LISTEN is in effect: a row cached before then
  // could miss the notification of a write committed in between.
  // And only when the trigger exists: a database not yet migrated to 120
  // announces nothing, so its reads stay on the database until it is.
  const started = async () => {
    const unlisten = await listen(DOCUMENT_CHANGED_CHANNEL, (id) => rows.drop(id));
    const { rows: triggers } = await sql`
      select 1 from pg_trigger
      where tgname = 'documents_notify_changed' and tgrelid = to_regclass('documents')`.execute(platform.database.db);
    if (triggers.length > 0) {
      state.rows = rows;
      return;
    }
    await unlisten();
    setTimeout(() => perPlatform.delete(platform), RECHECK_MS).unref();
  };
  started().catch((error: unknown) => {
    platform.logger.warn({ err: error }, "document row cache disabled: could not listen for document changes");
  });
}

/** Rows the cache hands out: the same object to every read until the row changes. */
const sharedRows = new WeakSet<DocumentRow>();

/** Marks a row loaded for the cache as shared: frozen, since every read from now on gets this object. */
export function shareRow(row: DocumentRow): DocumentRow {
  sharedRows.add(row);
  return Object.freeze(row);
}

/**
 * Whether `row` is a cached one: while it stays in the cache, nothing about
 * the document has changed, so whatever is derived from it alone (its
 * serialized response) may be reused for exactly as long as this object.
 */
export function isSharedRow(row: DocumentRow): boolean {
  return sharedRows.has(row);
}

/** The cache key for `id`, or null when `id` is not spelled as the trigger will announce it. */
export function rowCacheKey(id: string): string | null {
  return CANONICAL_UUID.test(id) ? id : null;
}
