import { createHash, randomUUID } from "node:crypto";
import { type Kysely, type Selectable, sql } from "kysely";
import type { BlobStore } from "../../platform/blobs/blob-store.ts";
import { DatabaseUnavailableError } from "../../platform/database/sqlstate.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import {
  type ContentStorage,
  insertObject,
  latestContent,
  type ObjectPlan,
  objectKind,
  planObject,
  readBytes,
  readObjectContent,
  rememberLatestContent,
  rememberObjectContent,
} from "./content-objects.ts";
import { type GenerationsPlatform, markDocumentsChanging } from "./document-generations.ts";
import { applyLegacyPatch } from "./legacy-patch.ts";
import { sha256Hex } from "./object-codec.ts";
import { indexSavedContent, searchEntryState } from "./search-index.ts";
import { type IndexingPlatform, scheduleSearchIndexing } from "./search-indexer.ts";
import { documentContentKey, ownerKey } from "./storage-keys.ts";
import type { DocumentsTable, DocumentVersionsTable, VersionKind } from "./tables.ts";

/** Minor (autosave) versions are kept this long (seed 000's Versioning Strategy). */
export const MINOR_VERSION_TTL_MS = 24 * 3600 * 1000;

type VersionRow = Selectable<DocumentVersionsTable>;

export interface Author {
  userId: string | null;
  sessionId: string | null;
}

/**
 * The document a save is for: its id and owner, and optionally the current
 * content's checksum and blob as the caller read the row (to delta against
 * without reading the row again; a save committed since only makes the new
 * object a delta on an older one).
 */
export type DocumentRef = Pick<
  Selectable<DocumentsTable>,
  "id" | "user_id" | "anonymous_session_id" | "organization_id"
> &
  Partial<Pick<Selectable<DocumentsTable>, "content_sha256" | "content_key">>;

export interface SavedVersion {
  id: string;
  number: number;
  kind: VersionKind;
  createdAt: Date;
  /**
   * The search entry is to be written after commit (a large text, see
   * search-index.ts). saveVersion schedules that itself when it ran its own
   * transaction; a caller that passed its transaction schedules it after
   * its commit (scheduleSearchIndexing).
   */
  searchDeferred: boolean;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function readText(blobs: BlobStore, key: string): Promise<string> {
  return (await readBytes(blobs, key)).toString("utf8");
}

/**
 * A version's full content, checked against its checksum: from its content
 * object, or, for a version the history migration has not reached yet, from
 * its snapshot or legacy patch.
 */
export async function readVersionContent(
  db: Kysely<Tables>,
  storage: ContentStorage,
  version: VersionRow,
): Promise<string> {
  if (version.blob_key === null) {
    return (await readObjectContent(db, storage, version.document_id, version.content_sha256)).toString("utf8");
  }
  return readLegacyVersion(db, storage.blobs, version as VersionRow & { blob_key: string });
}

/** A version in the earlier form: its snapshot, or its snapshot with its diff-match-patch patch applied. */
export async function readLegacyVersion(
  db: Kysely<Tables>,
  blobs: BlobStore,
  version: Pick<VersionRow, "id" | "storage" | "base_version_id" | "content_sha256"> & { blob_key: string },
  snapshotCache?: Map<string, string>,
): Promise<string> {
  let content: string;
  if (version.storage === "snapshot") {
    content = await readText(blobs, version.blob_key);
  } else {
    const baseId = version.base_version_id as string;
    let snapshot = snapshotCache?.get(baseId);
    if (snapshot === undefined) {
      const base = await db
        .selectFrom("document_versions")
        .select("blob_key")
        .where("id", "=", baseId)
        .executeTakeFirstOrThrow();
      snapshot = await readText(blobs, base.blob_key as string);
      snapshotCache?.set(baseId, snapshot);
    }
    content = applyLegacyPatch(snapshot, await readText(blobs, version.blob_key));
  }
  if (sha256(content) !== version.content_sha256) {
    throw new Error(`version ${version.id} does not match its checksum`);
  }
  return content;
}

export async function findVersion(db: Kysely<Tables>, documentId: string, number: number): Promise<VersionRow> {
  const row = await db
    .selectFrom("document_versions")
    .selectAll()
    .where("document_id", "=", documentId)
    .where("version_number", "=", number)
    .where("pruned_at", "is", null)
    .executeTakeFirst();
  if (!row) throw errors.versionNotFound();
  return row;
}

/**
 * Stores a new version and, unless it is an AI suggestion, makes it current.
 *
 * Content is stored once per document and SHA-256 (content-objects.ts):
 * content the document already holds (a restore, a re-save, an accepted
 * suggestion) adds only the version row. New content becomes a delta
 * after the current version's object (a delta in its run, a new anchor, or
 * a keyframe: see object-codec.ts); it is verified to restore exactly
 * before anything is written.
 *
 * A blob-held object is written first under a fresh key, then one
 * transaction locks the document row, checks that the object it reuses or
 * the base it deltas against still exists (objects are reclaimed only under
 * that lock), takes the next number, inserts object and version and moves
 * the document forward; so concurrent saves get distinct, gapless numbers in
 * commit order, and a row never points at a missing blob. If the
 * transaction fails the new blob is deleted. The document's current content
 * blob is refreshed after commit; readers check it against the row's
 * checksum, so a crash between the two is repaired on the next read. Being
 * a derived copy, it is written without an fsync (durability "cache").
 */
/**
 * What a save stores: new content, or content the document already holds,
 * named by the object's SHA-256 and size (a restore), which needs neither
 * reading nor encoding.
 */
export type SaveInput = { kind: VersionKind; changeDescription?: string | null; author: Author } & (
  | { content: string }
  | { held: { sha256: string; size: number } }
);

export async function saveVersion(
  db: Kysely<Tables>,
  storage: IndexingPlatform & GenerationsPlatform,
  doc: DocumentRef,
  input: SaveInput,
): Promise<SavedVersion> {
  // The object chosen to reuse or to delta against may be reclaimed before
  // the transaction locks the document; then the plan is made again.
  for (let attempt = 1; ; attempt++) {
    const saved = await trySaveVersion(db, storage, doc, input);
    if (saved !== OBJECT_GONE) return saved;
    // A held object is a live version's: it went with that version, pruned meanwhile.
    if ("held" in input) throw errors.versionNotFound();
    if (attempt >= 3) throw new Error("the stored content changed under three attempts to save a version");
  }
}

const OBJECT_GONE = Symbol("the planned object or base was reclaimed");

async function trySaveVersion(
  db: Kysely<Tables>,
  storage: IndexingPlatform & GenerationsPlatform,
  doc: DocumentRef,
  input: SaveInput,
): Promise<SavedVersion | typeof OBJECT_GONE> {
  const { blobs } = storage;
  const owner = ownerKey(doc);
  const bytes = "content" in input ? Buffer.from(input.content, "utf8") : null;
  const { sha256: contentSha, size: contentSize } =
    "held" in input ? input.held : { sha256: sha256Hex(bytes as Buffer), size: (bytes as Buffer).byteLength };
  // Held content is reused as it is (its kind is read under the lock below).
  const plan: ObjectPlan = bytes
    ? await planNewContent(db, storage, doc, bytes, contentSha)
    : { reuse: true, sha256: contentSha, kind: "delta" };
  const blobKey = plan.reuse ? null : plan.blobKey;
  if (!plan.reuse && blobKey) {
    await blobs.put(blobKey, plan.body, { contentType: "application/octet-stream" });
  }
  const id = randomUUID();
  // Set when a concurrent save stored the same content first: ours is unused.
  let duplicate = false;
  let saved: SavedVersion | typeof OBJECT_GONE;
  try {
    saved = await transaction(db, async (trx) => {
      // The object reused, or the base, is checked in the same statement:
      // objects are reclaimed only under this lock (content-objects.ts).
      const needed = plan.reuse ? plan.sha256 : plan.baseSha;
      const locked = await trx
        .selectFrom("documents")
        .select([
          "last_version_number",
          "current_version_id",
          (eb) =>
            eb
              .selectFrom("document_objects")
              .select("kind")
              .where("document_id", "=", doc.id)
              .where("sha256", "=", needed ?? "")
              .as("needed_kind"),
          searchEntryState(doc.id).as("search_entry"),
        ])
        .where("id", "=", doc.id)
        .forUpdate()
        .executeTakeFirst();
      // Purged (or deleted for good) while this save was on its way.
      if (!locked) throw errors.documentNotFound();
      let kind = plan.kind;
      let addedBytes = 0;
      if (needed) {
        if (!locked.needed_kind) return OBJECT_GONE;
        if (plan.reuse) kind = locked.needed_kind;
      }
      if (!plan.reuse) {
        if (await insertObject(trx, doc.id, plan)) {
          addedBytes = plan.body.byteLength;
        } else {
          duplicate = true;
          // Stored by a concurrent save of the same content, committed before this one took the lock.
          const other = await objectKind(trx, doc.id, contentSha);
          if (!other) throw new Error("a content object vanished under the document lock");
          kind = other;
        }
      }
      const number = locked.last_version_number + 1;
      const row = await trx
        .insertInto("document_versions")
        .values({
          id,
          document_id: doc.id,
          organization_id: doc.organization_id,
          version_number: number,
          kind: input.kind,
          storage: kind,
          base_version_id: null,
          blob_key: null,
          stored_size: addedBytes,
          content_size: contentSize,
          content_sha256: contentSha,
          change_description: input.changeDescription ?? null,
          created_by_user_id: input.author.userId,
          created_by_session_id: input.author.sessionId,
          previous_version_id: locked.current_version_id,
          suggestion_state: input.kind === "ai_suggestion" ? "pending" : null,
          expires_at: input.kind === "minor" ? new Date(Date.now() + MINOR_VERSION_TTL_MS) : null,
        })
        .returning(["created_at"])
        .executeTakeFirstOrThrow();
      // Every save changes what a read of the document answers (its history, at least).
      await markDocumentsChanging(storage, trx, [doc.id]);
      await trx
        .updateTable("documents")
        .set({
          last_version_number: number,
          history_versions: sql`history_versions + 1`,
          history_stored_bytes: sql`history_stored_bytes + ${addedBytes}`,
          // Editing is using: the archive and anonymous-retention clocks restart.
          last_accessed_at: sql`now()`,
          ...(input.kind === "ai_suggestion"
            ? {}
            : {
                current_version_id: id,
                current_version_number: number,
                content_sha256: contentSha,
                content_size: contentSize,
                updated_at: sql`now()`,
              }),
        })
        .where("id", "=", doc.id)
        .execute();
      const searchDeferred = await indexSavedContent(
        trx,
        doc,
        { kind: input.kind, text: "content" in input ? input.content : null, sha256: contentSha, size: contentSize },
        locked.search_entry,
      );
      return { id, number, kind: input.kind, createdAt: row.created_at, searchDeferred };
    });
  } catch (error) {
    // When the commit's outcome is unknown (the connection dropped), the row
    // may exist: the blob stays, and at worst is an orphan for clean-up.
    if (blobKey && !(error instanceof DatabaseUnavailableError)) await blobs.delete(blobKey).catch(() => {});
    throw error;
  }
  if (blobKey && (saved === OBJECT_GONE || duplicate)) await blobs.delete(blobKey).catch(() => {});
  if (saved === OBJECT_GONE) return OBJECT_GONE;
  if (!plan.reuse && !duplicate && bytes) rememberObjectContent(storage, doc.id, plan, bytes);
  if (bytes && input.kind !== "ai_suggestion") {
    // A reused object may sit anywhere in the history: it starts the list of candidate bases afresh.
    const startsRun = plan.reuse || duplicate || plan.run === 0;
    rememberLatestContent(storage, doc.id, contentSha, bytes, startsRun);
  }
  // Held content is not at hand: the blob is rebuilt by the next reader
  // (readCurrentContent), usually the search indexing that follows.
  if (input.kind !== "ai_suggestion" && bytes) {
    await blobs
      .put(documentContentKey(owner, doc.id), bytes, { contentType: "text/plain; charset=utf-8", durability: "cache" })
      .catch(() => {
        // The row already points at the new version; the next read rebuilds this blob.
      });
  }
  if (saved.searchDeferred && !db.isTransaction) void scheduleSearchIndexing(storage, doc.id);
  return saved;
}

/**
 * How to store new content: the history continues from the current
 * version's object, whose content is usually at hand in the current-content
 * blob (checked by planObject).
 */
async function planNewContent(
  db: Kysely<Tables>,
  storage: IndexingPlatform,
  doc: DocumentRef,
  bytes: Buffer,
  sha: string,
): Promise<ObjectPlan> {
  const current =
    doc.content_sha256 !== undefined && doc.content_key !== undefined
      ? { content_sha256: doc.content_sha256, content_key: doc.content_key }
      : await db
          .selectFrom("documents")
          .select(["content_sha256", "content_key"])
          .where("id", "=", doc.id)
          .executeTakeFirst();
  return planObject(
    db,
    storage,
    doc,
    bytes,
    sha,
    current?.content_sha256
      ? {
          sha256: current.content_sha256,
          content: async () =>
            latestContent(storage, doc.id, current.content_sha256) ??
            readBytes(storage.blobs, current.content_key).catch(() => null),
        }
      : null,
  );
}

/**
 * The document's current content. Reads the content blob and checks it
 * against the row; if it is missing or stale (a crash after commit), rebuilds
 * it from the current version and writes it back.
 */
export async function readCurrentContent(
  db: Kysely<Tables>,
  storage: ContentStorage,
  doc: DocumentRef & Pick<Selectable<DocumentsTable>, "content_key" | "content_sha256" | "current_version_id">,
): Promise<string> {
  if (!doc.current_version_id) return "";
  const { blobs } = storage;
  try {
    const content = await readText(blobs, doc.content_key);
    if (sha256(content) === doc.content_sha256) return content;
  } catch {
    // missing: rebuilt below
  }
  const version = await db
    .selectFrom("document_versions")
    .selectAll()
    .where("id", "=", doc.current_version_id)
    .executeTakeFirstOrThrow();
  const content = await readVersionContent(db, storage, version);
  // Repair only while this is still the current content: a newer save may
  // have committed since the caller read its row.
  const now = await db.selectFrom("documents").select("content_sha256").where("id", "=", doc.id).executeTakeFirst();
  if (now?.content_sha256 === doc.content_sha256) {
    await blobs
      .put(doc.content_key, content, { contentType: "text/plain; charset=utf-8", durability: "cache" })
      .catch(() => {});
  }
  return content;
}
