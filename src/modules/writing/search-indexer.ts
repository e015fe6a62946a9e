import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import { splitForIndexing } from "./search-chunks.ts";
import { SEARCH_TEXT_LIMIT, textDigest, writeSearchEntry } from "./search-index.ts";
import { readCurrentContent } from "./version-store.ts";

/** What indexing needs of the platform. */
export type IndexingPlatform = Pick<Platform, "database" | "blobs" | "compute" | "logger">;

interface Run {
  done: Promise<boolean>;
  /** Asked for again while running: the document may have changed after this run read it. */
  again: boolean;
}

/** One map per database (one per platform; tests run several side by side), made on first use. */
function perDatabase<V>(): (platform: Pick<Platform, "database">) => Map<string, V> {
  const maps = new WeakMap<object, Map<string, V>>();
  return (platform) => {
    let map = maps.get(platform.database);
    if (!map) {
      map = new Map();
      maps.set(platform.database, map);
    }
    return map;
  };
}

/** The indexing in flight for each document. */
const runsOf = perDatabase<Run>();
/** When each document's last indexing began (performance.now()). */
const startedOf = perDatabase<number>();

/**
 * A document is indexed after commit at most once per this interval: saves
 * in quick succession (an editor saving as the user types, a script
 * replaying a history, restores clicked through one after another) are
 * indexed once for the last of them, as a search engine's refresh interval
 * does, instead of once each. A document not indexed within the interval is
 * indexed at once.
 */
export const SEARCH_REINDEX_INTERVAL_MS = 1_000;

/** Waits out the rest of the document's interval, then marks its indexing as begun. */
async function takeTurn(platform: IndexingPlatform, documentId: string): Promise<void> {
  const started = startedOf(platform);
  const wait = (started.get(documentId) ?? Number.NEGATIVE_INFINITY) + SEARCH_REINDEX_INTERVAL_MS - performance.now();
  if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
  const now = performance.now();
  if (started.size >= 10_000) {
    for (const [id, at] of started) if (now - at >= SEARCH_REINDEX_INTERVAL_MS) started.delete(id);
  }
  started.set(documentId, now);
}

/**
 * Indexes a queued document soon, without the caller waiting; called after
 * a save's commit (search-index.ts) and by the sweep. At most one indexing
 * of a document runs at a time in this process, and at most one begins per
 * SEARCH_REINDEX_INTERVAL_MS: asked again while one waits or runs, it runs
 * once more afterwards, since the document may have changed after the
 * running one read it. Failures are logged and left to the sweep (the
 * document stays in `document_search_pending`). The promise tells whether
 * the last run wrote the entry; it never rejects.
 */
export function scheduleSearchIndexing(platform: IndexingPlatform, documentId: string): Promise<boolean> {
  const runs = runsOf(platform);
  const running = runs.get(documentId);
  if (running) {
    running.again = true;
    return running.done;
  }
  const run: Run = { again: false, done: Promise.resolve(false) };
  run.done = (async () => {
    let wrote = false;
    try {
      do {
        await takeTurn(platform, documentId);
        // Asked again before this point: this run reads the document after it, and covers that.
        run.again = false;
        try {
          // A rerun that finds the document indexed already does not undo the first run's write.
          wrote = (await indexQueuedDocument(platform, documentId)) || wrote;
        } catch (error) {
          platform.logger.warn({ err: error, documentId }, "search indexing failed; the sweep will retry");
        }
      } while (run.again);
    } finally {
      runs.delete(documentId);
    }
    return wrote;
  })();
  runs.set(documentId, run);
  return run.done;
}

/** Resolves once no indexing is in flight in this process (for shutdown and for tests that search right after a save). */
export async function awaitSearchIndexing(platform: Pick<Platform, "database">): Promise<void> {
  const runs = runsOf(platform);
  while (runs.size > 0) await Promise.all([...runs.values()].map((r) => r.done));
}

/**
 * Indexes one document if it is still queued. The content is read and its
 * vector computed outside any transaction, a piece at a time
 * (search-chunks.ts), each piece its own statement with the event loop
 * served between them; the entry is written only if the document still has
 * that content, under the document row's lock that saves take, so a save
 * that lands meanwhile is never overwritten by older text.
 */
async function indexQueuedDocument(platform: IndexingPlatform, documentId: string): Promise<boolean> {
  const db = platform.database.db;
  const doc = await db
    .selectFrom("document_search_pending as p")
    .innerJoin("documents as d", "d.id", "p.document_id")
    .leftJoin("document_search as s", "s.document_id", "p.document_id")
    .select([
      "d.id",
      "d.user_id",
      "d.anonymous_session_id",
      "d.organization_id",
      "d.content_key",
      "d.content_sha256",
      "d.current_version_id",
      "s.text_sha256",
    ])
    .where("p.document_id", "=", documentId)
    .executeTakeFirst();
  if (!doc) return false;
  // Reading may mean restoring the content from its chain (after a restore): a step of its own.
  await platform.database.foreground.quiet();
  const text = (await readCurrentContent(db, platform, doc)).slice(0, SEARCH_TEXT_LIMIT);
  // The entry already holds this text (a re-save, a restore of the current content): only the queue is cleared.
  const vectors = doc.text_sha256 === textDigest(text) ? undefined : await pieceVectors(platform, text);
  await platform.database.foreground.quiet();
  return transaction(db, async (trx) => {
    const now = await trx
      .selectFrom("documents")
      .select("content_sha256")
      .where("id", "=", documentId)
      .forUpdate()
      .executeTakeFirst();
    if (now?.content_sha256 !== doc.content_sha256) return false;
    if (vectors === undefined) {
      await trx.deleteFrom("document_search_pending").where("document_id", "=", documentId).execute();
    } else {
      await writeSearchEntry(trx, documentId, text, joinedVector(vectors));
    }
    return true;
  });
}

/**
 * to_tsvector('english') of each piece of the text (search-chunks.ts), one
 * statement per piece, each after a gap between requests on the embedded
 * database (foreground.ts). Joined with `||` in the statement that writes
 * the entry (joinedVector), they give the whole text's vector.
 */
export async function pieceVectors(platform: Pick<Platform, "database">, text: string): Promise<string[]> {
  const vectors: string[] = [];
  for (const piece of splitForIndexing(text)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await platform.database.foreground.quiet();
    const { rows } = await sql<{ v: string }>`select to_tsvector('english', ${piece})::text as v`.execute(
      platform.database.db,
    );
    vectors.push((rows[0] as { v: string }).v);
  }
  return vectors;
}

/** The pieces' vectors as one tsvector expression (empty text: the empty vector). */
export function joinedVector(vectors: readonly string[]) {
  if (vectors.length === 0) return sql`''::tsvector`;
  return sql.join(
    vectors.map((v) => sql`${v}::tsvector`),
    sql` || `,
  );
}

/** The whole text's vector, computed a piece at a time (what the indexer writes), as text. */
export async function textVector(platform: Pick<Platform, "database">, text: string): Promise<string> {
  const vectors = await pieceVectors(platform, text);
  const { rows } = await sql<{ v: string }>`select (${joinedVector(vectors)})::text as v`.execute(platform.database.db);
  return (rows[0] as { v: string }).v;
}
