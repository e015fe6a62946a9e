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

// Per database (one per platform): the indexing in flight for each document.
const inFlight = new WeakMap<object, Map<string, Run>>();

function runsOf(platform: IndexingPlatform): Map<string, Run> {
  let runs = inFlight.get(platform.database);
  if (!runs) {
    runs = new Map();
    inFlight.set(platform.database, runs);
  }
  return runs;
}

/**
 * Indexes a queued document soon, without the caller waiting; called after
 * a save's commit (search-index.ts) and by the sweep. At most one indexing
 * of a document runs at a time in this process: asked again while one runs,
 * it runs once more afterwards, since the document may have changed after
 * the running one read it. Failures are logged and left to the sweep (the
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
  const runs = inFlight.get(platform.database);
  while (runs && runs.size > 0) await Promise.all([...runs.values()].map((r) => r.done));
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
  const text = (await readCurrentContent(db, platform, doc)).slice(0, SEARCH_TEXT_LIMIT);
  // The entry already holds this text (a re-save, a restore of the current content): only the queue is cleared.
  const vector = doc.text_sha256 === textDigest(text) ? undefined : await textVector(platform, text);
  return transaction(db, async (trx) => {
    const now = await trx
      .selectFrom("documents")
      .select("content_sha256")
      .where("id", "=", documentId)
      .forUpdate()
      .executeTakeFirst();
    if (now?.content_sha256 !== doc.content_sha256) return false;
    if (vector === undefined) {
      await trx.deleteFrom("document_search_pending").where("document_id", "=", documentId).execute();
    } else {
      await writeSearchEntry(trx, documentId, text, vector);
    }
    return true;
  });
}

/** to_tsvector('english', text), a piece per statement, joined with `||` (which shifts positions as whole-text indexing counts them). */
export async function textVector(platform: Pick<Platform, "database">, text: string): Promise<string> {
  let vector = "";
  for (const piece of splitForIndexing(text)) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { rows } = await sql<{ v: string }>`
      select (${vector}::tsvector || to_tsvector('english', ${piece}))::text as v`.execute(platform.database.db);
    vector = (rows[0] as { v: string }).v;
  }
  return vector;
}
