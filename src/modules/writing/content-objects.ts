import { randomUUID } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import { LRUCache } from "lru-cache";
import type { BlobStore } from "../../platform/blobs/blob-store.ts";
import type { Tables } from "../../platform/database/tables.ts";
import type { Platform } from "../../runtime/platform.ts";
import { encodeObjectTask, restoreChainTask } from "./codec-tasks.ts";
import { BASE_WINDOW, nextPlacement, type ObjectKind, RUN_LENGTH, sha256Hex } from "./object-codec.ts";
import { ownerKey, versionKey } from "./storage-keys.ts";
import type { DocumentObjectsTable, DocumentsTable } from "./tables.ts";

/**
 * A document's content objects in the database and the blob store: reading
 * a chain, reclaiming what no live version needs, and the history totals.
 *
 * Invariants:
 * - an object's base is an object of the same document (a foreign key), and
 *   its depth is its base's plus one, so a chain ends at a keyframe, at most
 *   MAX_ANCHOR_DEPTH + RUN_LENGTH deltas away (object-codec.ts);
 * - objects are deleted only by reclaimObjects, under the document row's
 *   lock, which every save takes too: a save that checked its base (or the
 *   object it reuses) under that lock can rely on it until it commits;
 * - a blob key is used by one object only and never again (fresh id), so a
 *   key queued for deletion cannot come back to life.
 */

/**
 * Where content objects live (the blob store) and where their CPU-heavy
 * coding runs (the compute pool: deltas and compression of big documents
 * take tens to hundreds of milliseconds, which the event loop must not pay).
 */
export type ContentStorage = Pick<Platform, "blobs" | "compute">;

/** Deltas up to this size live in the row; keyframes and larger deltas in the blob store. */
export const INLINE_MAX_BYTES = 32 * 1024;

/** An object of a chain, as the recursive query reads it (its bytea typed as the wider Uint8Array). */
type ChainRow = Pick<Selectable<DocumentObjectsTable>, "sha256" | "kind" | "depth" | "blob_key"> & {
  body: Uint8Array | null;
};

export async function readBytes(blobs: BlobStore, key: string): Promise<Buffer> {
  const { body } = await blobs.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Contents of objects recently restored, per blob store (one per platform),
 * keyed by document and SHA-256: git's delta base cache. A chain being read
 * stops at the first object found here and applies only the deltas above
 * it. A SHA-256 names the bytes, so an entry can never be stale, in this
 * process or because of another: it needs no invalidation. Only reads fill
 * it (a save's content is at hand in the current-content blob), bounded by
 * size, least recently used out first.
 */
const OBJECT_MEMORY_BYTES = 32 * 1024 * 1024;

interface ObjectMemory {
  contents: LRUCache<string, Buffer>;
  /**
   * Each document's latest saved contents, oldest first, by document: the
   * current run's last BASE_WINDOW objects, the candidate bases of its next
   * save, which then reads no blob. Apart from `contents`, so saves do not
   * fill the read cache (and the versions benchmark's reads are not served
   * from what its saves just wrote).
   */
  recent: LRUCache<string, RecentContent[]>;
  /** The SHA-256s held for each document, for the chain query's stop list. */
  held: Map<string, Set<string>>;
}

const memories = new WeakMap<object, ObjectMemory>();

function memoryOf(storage: ContentStorage): ObjectMemory {
  let memory = memories.get(storage.blobs);
  if (!memory) {
    const held = new Map<string, Set<string>>();
    const contents = new LRUCache<string, Buffer>({
      maxSize: OBJECT_MEMORY_BYTES,
      sizeCalculation: (bytes) => Math.max(1, bytes.byteLength),
      dispose: (_bytes, key) => {
        const [documentId, sha] = key.split(":") as [string, string];
        const shas = held.get(documentId);
        shas?.delete(sha);
        if (shas?.size === 0) held.delete(documentId);
      },
    });
    const recent = new LRUCache<string, RecentContent[]>({
      maxSize: OBJECT_MEMORY_BYTES / 2,
      sizeCalculation: (list) =>
        Math.max(
          1,
          list.reduce((n, entry) => n + entry.bytes.byteLength, 0),
        ),
    });
    memory = { contents, held, recent };
    memories.set(storage.blobs, memory);
  }
  return memory;
}

/** Empties the memory (the versions benchmark measures cold reads with it). */
export function forgetObjectContents(storage: ContentStorage): void {
  memories.delete(storage.blobs);
}

interface RecentContent {
  sha256: string;
  bytes: Buffer;
}

/**
 * Contents above this size are saved against the current object only: each
 * candidate base costs a delta, and a Fossil delta of a 2 MB document takes
 * 80-300 ms.
 */
const WINDOW_MAX_BYTES = 256 * 1024;

/**
 * Notes a document's newly saved content as a base of its next saves.
 * `startsRun`: the content's object is an anchor or a keyframe, or an
 * object reused from anywhere in the history (a restore): the objects
 * before it are no longer in the current run.
 */
export function rememberLatestContent(
  storage: ContentStorage,
  documentId: string,
  sha: string,
  bytes: Buffer,
  startsRun: boolean,
): void {
  const { recent } = memoryOf(storage);
  if (bytes.byteLength > OBJECT_MEMORY_BYTES / 16) {
    recent.delete(documentId);
    return;
  }
  const before = startsRun || bytes.byteLength > WINDOW_MAX_BYTES ? [] : (recent.get(documentId) ?? []);
  const others = before.filter((entry) => entry.sha256 !== sha);
  const list = [...others.slice(Math.max(0, others.length - (BASE_WINDOW - 1))), { sha256: sha, bytes }];
  recent.set(documentId, list);
}

/** The document's saved content with this SHA-256, if it is among its latest and still in memory. */
export function latestContent(storage: ContentStorage, documentId: string, sha: string): Buffer | null {
  return (
    memoryOf(storage)
      .recent.get(documentId)
      ?.find((entry) => entry.sha256 === sha)?.bytes ?? null
  );
}

/** The document's latest saved contents in memory, oldest first (at most BASE_WINDOW). */
function recentContents(storage: ContentStorage, documentId: string): readonly RecentContent[] {
  return memoryOf(storage).recent.get(documentId) ?? [];
}

/**
 * Keeps a saved object's content in memory when later saves will delta
 * against it: a keyframe or an anchor is the base of the next anchor, a
 * run later (object-codec.ts), which then needs no chain read.
 */
export function rememberObjectContent(
  storage: ContentStorage,
  documentId: string,
  object: { sha256: string; kind: ObjectKind; run: number },
  content: Buffer,
): void {
  if (object.kind === "keyframe" || object.run === 0) remember(storage, documentId, object.sha256, content);
}

function remember(storage: ContentStorage, documentId: string, sha: string, content: Buffer): void {
  // Larger contents would push out many ordinary ones for one document.
  if (content.byteLength > OBJECT_MEMORY_BYTES / 16) return;
  const memory = memoryOf(storage);
  memory.contents.set(`${documentId}:${sha}`, content);
  let shas = memory.held.get(documentId);
  if (!shas) {
    shas = new Set();
    memory.held.set(documentId, shas);
  }
  shas.add(sha);
}

/**
 * The chain from an object down to its keyframe, or down to the first
 * object in `stopAt` (whose content the caller holds), base first, in one
 * query.
 */
async function readChain(
  db: Kysely<Tables>,
  documentId: string,
  sha: string,
  stopAt: readonly string[] = [],
): Promise<ChainRow[]> {
  const { rows } = await sql<ChainRow>`
    with recursive chain as (
      select sha256, base_sha256, kind, depth, body, blob_key from document_objects
      where document_id = ${documentId} and sha256 = ${sha}
      union all
      select o.sha256, o.base_sha256, o.kind, o.depth, o.body, o.blob_key
      from document_objects o join chain c on o.sha256 = c.base_sha256
      where o.document_id = ${documentId} and c.depth > 0 and c.sha256 <> all(${stopAt as string[]}::text[])
    )
    select sha256, kind, depth, body, blob_key from chain order by depth`.execute(db);
  if (rows.length === 0) throw new Error(`content object ${sha} of document ${documentId} is missing`);
  const first = (rows[0] as ChainRow).depth;
  if (rows.some((r, i) => r.depth !== first + i)) throw new Error(`content object ${sha} has a broken chain`);
  return rows;
}

/**
 * Restores the last row of a chain (blob-held bodies read in parallel) and
 * checks its SHA-256. The first row is the chain's keyframe, or an object
 * whose content is `start` (then only the rows above it are decoded).
 */
async function restoreRows(storage: ContentStorage, rows: ChainRow[], start: Buffer | null = null): Promise<Buffer> {
  const coded = start ? rows.slice(1) : rows;
  const bodies = await Promise.all(
    coded.map((r) => (r.body ? asBuffer(r.body) : readBytes(storage.blobs, r.blob_key as string))),
  );
  const content = asBuffer(
    await storage.compute.run(restoreChainTask, {
      start,
      objects: coded.map((r, i) => ({ kind: r.kind, body: bodies[i] as Buffer })),
    }),
  );
  const sha = (rows.at(-1) as ChainRow).sha256;
  if (sha256Hex(content) !== sha) throw new Error(`content object ${sha} does not match its checksum`);
  return content;
}

/**
 * The content of one object, checked against its SHA-256: from memory, or
 * from its chain down to the nearest object in memory. `fresh` reads every
 * object of the chain from the database and leaves the memory alone (the
 * history migration's check of what it stored).
 */
export async function readObjectContent(
  db: Kysely<Tables>,
  storage: ContentStorage,
  documentId: string,
  sha: string,
  options: { fresh?: boolean } = {},
): Promise<Buffer> {
  if (options.fresh) return restoreRows(storage, await readChain(db, documentId, sha));
  const held = memoryOf(storage).contents.get(`${documentId}:${sha}`);
  if (held) return held;
  const { rows, start } = await chainAboveMemory(db, storage, documentId, sha);
  const content = await restoreRows(storage, rows, start);
  remember(storage, documentId, sha, content);
  return content;
}

/**
 * The chain below `sha` down to the nearest object in memory (`start`, its
 * content) or to the keyframe (`start` null). If the object the query
 * stopped at was pushed out of memory meanwhile, the whole chain.
 */
async function chainAboveMemory(
  db: Kysely<Tables>,
  storage: ContentStorage,
  documentId: string,
  sha: string,
): Promise<{ rows: ChainRow[]; start: Buffer | null }> {
  const memory = memoryOf(storage);
  const rows = await readChain(db, documentId, sha, [...(memory.held.get(documentId) ?? [])]);
  const first = rows[0] as ChainRow;
  const start = memory.contents.get(`${documentId}:${first.sha256}`) ?? null;
  if (start === null && first.depth > 0) return { rows: await readChain(db, documentId, sha), start: null };
  return { rows, start };
}

/**
 * The object at `depth` on the chain below `sha`, with its content. Its
 * content is usually in memory (an anchor or keyframe since it was saved,
 * rememberObjectContent), and the chain is then read only down to it.
 */
async function contentBelow(
  db: Kysely<Tables>,
  storage: ContentStorage,
  documentId: string,
  sha: string,
  depth: number,
): Promise<{ sha256: string; depth: number; content: Buffer }> {
  let { rows, start } = await chainAboveMemory(db, storage, documentId, sha);
  // Stopped above that depth (at a version read lately): the whole chain then.
  if ((rows[0] as ChainRow).depth > depth) {
    rows = await readChain(db, documentId, sha);
    start = null;
  }
  const upTo = rows.slice(0, depth - (rows[0] as ChainRow).depth + 1);
  const target = upTo.at(-1) as ChainRow;
  if (target.depth !== depth) throw new Error(`content object ${sha} has no object ${depth} deep below it`);
  return { sha256: target.sha256, depth, content: await restoreRows(storage, upTo, start) };
}

/** The kind of a document's object with this SHA-256, or undefined when it has none. */
export async function objectKind(db: Kysely<Tables>, documentId: string, sha: string): Promise<ObjectKind | undefined> {
  const row = await db
    .selectFrom("document_objects")
    .select("kind")
    .where("document_id", "=", documentId)
    .where("sha256", "=", sha)
    .executeTakeFirst();
  return row?.kind;
}

export type ObjectPlan =
  | { reuse: true; sha256: string; kind: ObjectKind }
  | {
      reuse: false;
      sha256: string;
      kind: ObjectKind;
      body: Buffer;
      baseSha: string | null;
      depth: number;
      run: number;
      contentSize: number;
      blobKey: string | null;
    };

/**
 * How to store `content` in a document: reuse the object with its SHA-256,
 * or encode a new one placed after `current` (the object the document's
 * history is at; its content may be passed when the caller holds it), as
 * nextPlacement decides; a delta in a run may be against another of the
 * run's objects whose content is in memory, when that delta is shorter.
 * Encoding is verified (encodeObject); nothing is written here.
 */
export async function planObject(
  db: Kysely<Tables>,
  storage: ContentStorage,
  doc: Pick<Selectable<DocumentsTable>, "id" | "user_id" | "anonymous_session_id">,
  content: Buffer,
  sha: string,
  current: { sha256: string; content?: () => Promise<Buffer | null> } | null,
): Promise<ObjectPlan> {
  // Other recent contents of the document may be better bases than the current one.
  const recent = content.byteLength <= WINDOW_MAX_BYTES ? recentContents(storage, doc.id) : [];
  // The content's own object, if the document has it already, the current one and the recent ones, in one query.
  const found = await db
    .selectFrom("document_objects")
    .select(["sha256", "kind", "depth", "run"])
    .where("document_id", "=", doc.id)
    .where("sha256", "in", [sha, ...(current ? [current.sha256] : []), ...recent.map((entry) => entry.sha256)])
    .execute();
  const existing = found.find((o) => o.sha256 === sha);
  if (existing) return { reuse: true, sha256: sha, kind: existing.kind };
  const at = current ? found.find((o) => o.sha256 === current.sha256) : undefined;
  const placement = nextPlacement(at ?? null);
  const bases: { sha256: string; depth: number; run: number; content: Buffer }[] = [];
  if (at && placement === "run") {
    const held = await current?.content?.();
    const bytes =
      held && sha256Hex(held) === at.sha256 ? held : await readObjectContent(db, storage, doc.id, at.sha256);
    bases.push({ sha256: at.sha256, depth: at.depth + 1, run: at.run + 1, content: bytes });
    // Objects of the same run (on an anchor as deep as the current one's)
    // that the document still has. Any of them keeps the new object within
    // RUN_LENGTH of its anchor, so within the chain bound.
    for (const entry of recent) {
      const row = found.find((o) => o.sha256 === entry.sha256);
      if (!row || row.sha256 === at.sha256 || row.run >= RUN_LENGTH || row.depth - row.run !== at.depth - at.run)
        continue;
      bases.push({ sha256: row.sha256, depth: row.depth + 1, run: row.run + 1, content: entry.bytes });
    }
  } else if (at && placement === "anchor") {
    // The run's anchor sits `run` deltas below the current object.
    const anchor = await contentBelow(db, storage, doc.id, at.sha256, at.depth - at.run);
    bases.push({ sha256: anchor.sha256, depth: anchor.depth + 1, run: 0, content: anchor.content });
  }
  const coded = await storage.compute.run(encodeObjectTask, { content, bases: bases.map((b) => b.content) });
  // Structured clone hands a worker's Buffer back as a plain Uint8Array.
  const encoded = { kind: coded.kind, body: asBuffer(coded.body) };
  const on = coded.kind === "delta" && coded.baseIndex !== null ? bases[coded.baseIndex] : undefined;
  if (coded.kind === "delta" && !on) throw new Error("an encoded delta names no base");
  return {
    reuse: false,
    sha256: sha,
    kind: encoded.kind,
    body: encoded.body,
    baseSha: on?.sha256 ?? null,
    depth: on?.depth ?? 0,
    run: on?.run ?? 0,
    contentSize: content.byteLength,
    blobKey:
      encoded.kind === "keyframe" || encoded.body.byteLength > INLINE_MAX_BYTES
        ? versionKey(ownerKey(doc), doc.id, randomUUID())
        : null,
  };
}

/**
 * Inserts a planned object, once the caller holds the document row's lock
 * and has written its blob. False when the document already has an object
 * for that content (a concurrent save stored it first).
 */
export async function insertObject(
  trx: Kysely<Tables>,
  documentId: string,
  plan: ObjectPlan & { reuse: false },
): Promise<boolean> {
  const inserted = await trx
    .insertInto("document_objects")
    .values({
      document_id: documentId,
      sha256: plan.sha256,
      kind: plan.kind,
      base_sha256: plan.baseSha,
      depth: plan.depth,
      run: plan.run,
      content_size: plan.contentSize,
      stored_size: plan.body.byteLength,
      body: plan.blobKey ? null : plan.body,
      blob_key: plan.blobKey,
    })
    .onConflict((oc) => oc.columns(["document_id", "sha256"]).doNothing())
    .returning("sha256")
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Deletes the objects of a document that no live version needs, directly or
 * as the base of a needed object, queues their blobs for deletion, and
 * brings the document's history totals up to date. Takes the document row's
 * lock, as saves do (see the invariants above).
 */
export async function reclaimObjects(trx: Kysely<Tables>, documentId: string): Promise<number> {
  const locked = await trx
    .selectFrom("documents")
    .select("id")
    .where("id", "=", documentId)
    .forUpdate()
    .executeTakeFirst();
  if (!locked) return 0;
  const { rows } = await sql<{ blob_key: string | null }>`
    with recursive needed (sha256) as (
      select content_sha256 from document_versions where document_id = ${documentId} and pruned_at is null
      union
      select o.base_sha256 from document_objects o join needed n on o.sha256 = n.sha256
      where o.document_id = ${documentId} and o.base_sha256 is not null
    )
    delete from document_objects
    where document_id = ${documentId} and sha256 not in (select sha256 from needed)
    returning blob_key`.execute(trx);
  const keys = rows.flatMap((r) => (r.blob_key ? [r.blob_key] : []));
  if (keys.length > 0) {
    await trx
      .insertInto("writing_blob_cleanup")
      .values(keys.map((blob_key) => ({ blob_key, delete_after: new Date() })))
      .onConflict((oc) => oc.column("blob_key").doNothing())
      .execute();
  }
  await refreshHistoryTotals(trx, documentId);
  return rows.length;
}

/**
 * Recounts a document's live versions and stored bytes: its objects, plus
 * the blobs of versions still in the earlier form that are still needed.
 */
export async function refreshHistoryTotals(trx: Kysely<Tables>, documentId: string): Promise<void> {
  await sql`
    update documents set
      history_versions = (select count(*) from document_versions
        where document_id = ${documentId} and pruned_at is null),
      history_stored_bytes =
        (select coalesce(sum(stored_size), 0) from document_objects where document_id = ${documentId})
        + (select coalesce(sum(v.stored_size), 0) from document_versions v
            where v.document_id = ${documentId} and v.blob_key is not null and ${legacyBlobStillNeeded})
    where id = ${documentId}`.execute(trx);
}

/**
 * For a query over `document_versions as v` in the earlier form: the version
 * is live, or a live version is stored as a patch against it, so its blob is
 * still needed.
 */
export const legacyBlobStillNeeded = sql<boolean>`(v.pruned_at is null or exists (
  select 1 from document_versions d where d.base_version_id = v.id and d.pruned_at is null))`;

/** Whether a blob key is still referenced by an object or a needed version in the earlier form. */
export async function blobStillReferenced(db: Kysely<Tables>, key: string): Promise<boolean> {
  const object = await db
    .selectFrom("document_objects")
    .select("sha256")
    .where("blob_key", "=", key)
    .executeTakeFirst();
  if (object) return true;
  const legacy = await db
    .selectFrom("document_versions as v")
    .select("v.id")
    .where("v.blob_key", "=", key)
    .where(legacyBlobStillNeeded)
    .executeTakeFirst();
  return Boolean(legacy);
}
