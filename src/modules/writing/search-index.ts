import { createHash } from "node:crypto";
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import type { VersionKind } from "./tables.ts";

/**
 * Full-text search entries (`document_search`, one row per document): the
 * first SEARCH_TEXT_LIMIT characters of the current content, kept for
 * snippets, and a weighted tsvector over title (A), description (B) and that
 * text (C), with a GIN index.
 *
 * They live apart from `documents` because they are large (a 200k-character
 * text and its tsvector) while the document row changes on every save and
 * every read's access clock: in one row, each of those changes left a dead
 * copy of both behind. Here an entry is rewritten only when what is
 * searchable changes, and at most once per SEARCH_COALESCE_MS for autosaves:
 * - a save whose content is what the entry already holds writes nothing;
 * - a major save (and a restore, an accepted suggestion, a new document) of
 *   a text up to INLINE_INDEX_BYTES is indexed in its own transaction, so it
 *   is searchable once acknowledged;
 * - a larger one only queues the document in `document_search_pending`, in
 *   its transaction, and is indexed right after commit, in bounded steps
 *   (search-indexer.ts): to_tsvector of a 40 KB text costs 7-28 ms, which on
 *   PGlite is the event loop's time, and would hold the document row's lock
 *   for as long. Staleness bound: searchable within the time those steps take
 *   (tens of milliseconds for 40 KB) after the save is acknowledged; after a
 *   crash, by the sweep below;
 * - a minor save (autosave) within SEARCH_COALESCE_MS of the entry's last
 *   indexing only queues the document in `document_search_pending`, in the
 *   save's transaction, so the queue survives a crash. The writing worker
 *   (search-reindex.ts) indexes queued documents once their entry is older
 *   than SEARCH_COALESCE_MS. Staleness bound: an autosave is searchable at
 *   most SEARCH_COALESCE_MS + the sweep interval (30 s + 10 s) after it was
 *   acknowledged, while the worker keeps up.
 */
export const SEARCH_TEXT_LIMIT = 200_000;
export const SEARCH_COALESCE_MS = 30_000;
/**
 * Texts up to this size are indexed inside the save's transaction (about
 * 1-2 ms for 8 KiB); larger ones after commit, in bounded steps.
 */
export const INLINE_INDEX_BYTES = 8 * 1024;

type Db = Kysely<Tables>;

/** What a save needs to know of a document's search entry. */
export interface SearchEntryState {
  text_sha256: string;
  /** Indexed within SEARCH_COALESCE_MS. */
  fresh: boolean;
}

const entryFresh = sql<boolean>`indexed_at > now() - make_interval(secs => ${SEARCH_COALESCE_MS / 1000})`;

/**
 * The entry's state as one JSON column of another statement (the save's
 * lock takes it along instead of a statement of its own); null when the
 * document has no entry.
 */
export function searchEntryState(documentId: string) {
  return sql<SearchEntryState | null>`(select json_build_object('text_sha256', text_sha256, 'fresh', ${entryFresh})
    from document_search where document_id = ${documentId})`;
}

/**
 * Keeps the search entry in step with a save; runs inside the save's
 * transaction, after the document row moved forward. Returns true when the
 * document was queued for indexing after commit (scheduleSearchIndexing),
 * false when the entry is done or waits for the coalescing sweep.
 */
export async function indexSavedContent(
  trx: Db,
  doc: { id: string },
  saved: {
    kind: VersionKind;
    /** The content, or null when the save reused a stored object without reading it (a restore). */
    text: string | null;
    /** The content's SHA-256 and UTF-8 size. */
    sha256: string;
    size: number;
  },
  /** The entry as the caller read it under the document row's lock (searchEntryState), or undefined to read it here. */
  known?: SearchEntryState | null,
): Promise<boolean> {
  // A suggestion does not become the current content until it is accepted (a save of its own).
  if (saved.kind === "ai_suggestion") return false;
  const text = saved.text?.slice(0, SEARCH_TEXT_LIMIT) ?? null;
  // Content within the limit is indexed whole, so the text's digest is the content's.
  const digest = text !== null ? textDigest(text) : saved.size <= SEARCH_TEXT_LIMIT ? saved.sha256 : null;
  const entry =
    known !== undefined
      ? known
      : await trx
          .selectFrom("document_search")
          .select(["text_sha256", entryFresh.as("fresh")])
          .where("document_id", "=", doc.id)
          .executeTakeFirst();
  if (digest !== null && entry?.text_sha256 === digest) {
    await clearPending(trx, doc.id);
    return false;
  }
  const coalesced = saved.kind === "minor" && entry?.fresh === true;
  if (coalesced || text === null || Buffer.byteLength(text) > INLINE_INDEX_BYTES) {
    await trx
      .insertInto("document_search_pending")
      .values({ document_id: doc.id })
      .onConflict((oc) => oc.column("document_id").doNothing())
      .execute();
    return !coalesced;
  }
  await writeSearchEntry(trx, doc.id, text);
  return false;
}

/**
 * Writes the entry from `text` (already cut to SEARCH_TEXT_LIMIT) and the
 * document's title and description as they are in this transaction, and
 * takes the document off the pending queue. `textVector` is an expression
 * for the text's to_tsvector('english') when it was computed beforehand, in
 * steps (search-indexer.ts).
 */
export async function writeSearchEntry(
  trx: Db,
  documentId: string,
  text: string,
  textVector?: RawBuilder<unknown>,
): Promise<void> {
  const body = textVector ?? sql`to_tsvector('english', b.body)`;
  await sql`
    insert into document_search (document_id, organization_id, search_text, text_sha256, search_vector, indexed_at)
    select d.id, d.organization_id, b.body, ${textDigest(text)}, ${weightedVector(sql`d.title`, sql`d.description`, body)}, now()
    from documents d, (select ${text}::text as body) b
    where d.id = ${documentId}
    on conflict (document_id) do update set
      organization_id = excluded.organization_id,
      search_text = excluded.search_text,
      text_sha256 = excluded.text_sha256,
      search_vector = excluded.search_vector,
      indexed_at = excluded.indexed_at`.execute(trx);
  await clearPending(trx, documentId);
}

/** After a title or description change: the vector again, from the text already stored (which is not rewritten). */
export async function refreshSearchWeights(trx: Db, documentId: string): Promise<void> {
  await sql`
    update document_search s
    set search_vector = ${weightedVector(sql`d.title`, sql`d.description`, sql`to_tsvector('english', s.search_text)`)}
    from documents d
    where d.id = s.document_id and s.document_id = ${documentId}`.execute(trx);
}

async function clearPending(trx: Db, documentId: string): Promise<void> {
  await trx.deleteFrom("document_search_pending").where("document_id", "=", documentId).execute();
}

/** `bodyVector` is a tsvector expression for the text. */
function weightedVector(
  title: ReturnType<typeof sql>,
  description: ReturnType<typeof sql>,
  bodyVector: ReturnType<typeof sql>,
) {
  return sql`setweight(to_tsvector('english', ${title}), 'A') ||
    setweight(to_tsvector('english', coalesce(${description}, '')), 'B') ||
    setweight(${bodyVector}, 'C')`;
}

export function textDigest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
