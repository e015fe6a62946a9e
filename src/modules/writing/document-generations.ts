import type { Kysely } from "kysely";
import { GenerationCache } from "../../platform/cache/generation-cache.ts";
import { type Change, Generations, generationKey } from "../../platform/cache/generations.ts";
import { afterTransaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { DocumentRow } from "./documents.ts";

/**
 * `documents` rows held in each process on the server profile, served only
 * at the generation the key-value store names (platform/cache/generations.ts):
 * the admission script of GET /v1/documents/:id reads the document's
 * generation in the round trip it makes anyway, so a warm read asks Postgres
 * nothing and still never serves a row from before a write acknowledged by
 * any process.
 *
 * Every write to a document row is bracketed by a change on its generation,
 * begun before the write commits and ended after it (`markDocumentsChanging`
 * inside a transaction, ended after the outermost one; `changingDocuments`
 * around a lone statement), and the writer answers its client only then.
 * The paths that write the row: create (through the first save), metadata
 * edits, delete and restore, version saves (new versions, restores, AI
 * suggestions and their acceptance), the minute's touch, ownership transfer,
 * and maintenance (history pruning, archiving, purging). A statement written by hand, a
 * cascade from another table or a migration changes no generation; entries
 * expire after ROW_TTL_MS, the longest such a write stays unseen.
 *
 * Only on Postgres with Redis: the embedded profile's own row cache is
 * invalidated by the database itself (document-row-cache.ts), and Postgres
 * with the in-process key-value store gives other processes no shared
 * generations, so it reads by statement.
 */
const MAX_ROWS = 10_000;
/** The backstop for writes that bypass the generations (see above). */
const ROW_TTL_MS = 30_000;
const GENERATION_NAME = "documents";

/** Ids as the database prints them; any other spelling skips the cache, so each document has one key. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the generations need of the platform (the writers' helpers take no more). */
export type GenerationsPlatform = Pick<Platform, "database" | "kv" | "metrics" | "logger">;

interface DocumentGenerations {
  rows: GenerationCache<DocumentRow>;
  generations: Generations;
}

const perPlatform = new WeakMap<GenerationsPlatform, DocumentGenerations | null>();

/** The platform's generation-validated row cache and change marker, or null where they do not apply. */
export function documentGenerations(platform: GenerationsPlatform): DocumentGenerations | null {
  let state = perPlatform.get(platform);
  if (state === undefined) {
    state =
      platform.database.driver === "postgres" && platform.kv.driver === "redis"
        ? {
            rows: new GenerationCache<DocumentRow>("documents", { max: MAX_ROWS, ttlMs: ROW_TTL_MS }, platform.metrics),
            generations: new Generations(platform.kv, platform.logger),
          }
        : null;
    perPlatform.set(platform, state);
  }
  return state;
}

/** The key whose generation GET /v1/documents/:id asks the admission for; null when there is no cache to validate. */
export function documentGenerationKey(platform: GenerationsPlatform, id: string): string | null {
  if (!documentGenerations(platform) || !CANONICAL_UUID.test(id)) return null;
  return generationKey(GENERATION_NAME, id);
}

/**
 * Inside a transaction that writes the rows of documents `ids`, before it
 * commits: marks the change, which ends once the outermost transaction (opened
 * by `transaction()`) has committed or rolled back, before that returns.
 * Throws KvUnavailableError when the key-value store cannot mark the change,
 * which rolls the transaction back (the route answers 503).
 */
export async function markDocumentsChanging<DB>(
  platform: GenerationsPlatform,
  trx: Kysely<DB>,
  ids: readonly string[],
): Promise<void> {
  if (!trx.isTransaction) throw new Error("markDocumentsChanging runs inside the writing transaction");
  const change = await begin(platform, ids);
  try {
    afterTransaction(trx, () => change.end());
  } catch (error) {
    await change.end();
    throw error;
  }
}

/**
 * Runs `write`, one statement outside any transaction that changes the rows
 * of documents `ids`, as a change on their generations, ended once it
 * settles. Throws KvUnavailableError, without writing, when the key-value
 * store cannot mark the change.
 */
export async function changingDocuments<T>(
  platform: GenerationsPlatform,
  ids: readonly string[],
  write: () => Promise<T>,
): Promise<T> {
  const change = await begin(platform, ids);
  try {
    return await write();
  } finally {
    await change.end();
  }
}

const NO_CHANGE: Change = { end: async () => {} };

function begin(platform: GenerationsPlatform, ids: readonly string[]): Promise<Change> {
  const state = documentGenerations(platform);
  if (!state || ids.length === 0) return Promise.resolve(NO_CHANGE);
  return state.generations.begin(ids.map((id) => generationKey(GENERATION_NAME, canonical(id))));
}

/**
 * A writer's id as readers key it. Writers pass ids read from the database,
 * which prints them this way; anything else would mark a key no reader
 * asks for, so it is refused rather than let through.
 */
function canonical(id: string): string {
  if (!CANONICAL_UUID.test(id)) throw new Error(`not a document id as the database prints it: ${id}`);
  return id;
}
