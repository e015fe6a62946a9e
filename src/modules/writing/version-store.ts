import { createHash, randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { BlobStore } from "../../platform/blobs/blob-store.ts";
import { DatabaseUnavailableError } from "../../platform/database/sqlstate.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { applyDelta, planStorage } from "./delta.ts";
import { indexSavedContent } from "./search-index.ts";
import { documentContentKey, ownerKey, versionKey } from "./storage-keys.ts";
import type { DocumentVersionsTable, VersionKind } from "./tables.ts";

/** Minor (autosave) versions are kept this long (seed 000's Versioning Strategy). */
export const MINOR_VERSION_TTL_MS = 24 * 3600 * 1000;

type VersionRow = Omit<DocumentVersionsTable, "created_at" | "expires_at" | "pruned_at"> & {
  created_at: Date;
  expires_at: Date | null;
  pruned_at: Date | null;
};

export interface Author {
  userId: string | null;
  sessionId: string | null;
}

export interface DocumentRef {
  id: string;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
}

export interface SavedVersion {
  id: string;
  number: number;
  kind: VersionKind;
  createdAt: Date;
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export async function readText(blobs: BlobStore, key: string): Promise<string> {
  const { body } = await blobs.get(key);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** A version's full content: its snapshot, or its snapshot with its patch applied; checked against its checksum. */
export async function readVersionContent(db: Kysely<Tables>, blobs: BlobStore, version: VersionRow): Promise<string> {
  let content: string;
  if (version.storage === "snapshot") {
    content = await readText(blobs, version.blob_key);
  } else {
    const base = await db
      .selectFrom("document_versions")
      .select("blob_key")
      .where("id", "=", version.base_version_id as string)
      .executeTakeFirstOrThrow();
    const [snapshot, delta] = await Promise.all([readText(blobs, base.blob_key), readText(blobs, version.blob_key)]);
    content = applyDelta(snapshot, delta);
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
  if (!row) throw errors.notFound("version");
  return row;
}

/**
 * Stores a new version and, unless it is an AI suggestion, makes it current.
 *
 * The version's blob is written first under a fresh key, then one
 * transaction locks the document row, takes the next number, inserts the
 * version and moves the document forward; so concurrent saves get distinct,
 * gapless numbers in commit order, and a row never points at a missing blob.
 * If the transaction fails the new blob is deleted. The document's current
 * content blob is refreshed after commit; readers check it against the row's
 * checksum, so a crash between the two is repaired on the next read.
 */
export async function saveVersion(
  db: Kysely<Tables>,
  blobs: BlobStore,
  doc: DocumentRef,
  input: { content: string; kind: VersionKind; changeDescription?: string | null; author: Author },
): Promise<SavedVersion> {
  // A snapshot chosen as the base may be pruned before the transaction locks
  // it; then the plan is made again against what is current.
  for (let attempt = 1; ; attempt++) {
    const saved = await trySaveVersion(db, blobs, doc, input);
    if (saved !== BASE_GONE) return saved;
    if (attempt >= 3) throw new Error("could not find a stable snapshot to store the version against");
  }
}

const BASE_GONE = Symbol("base snapshot was pruned");

async function trySaveVersion(
  db: Kysely<Tables>,
  blobs: BlobStore,
  doc: DocumentRef,
  input: { content: string; kind: VersionKind; changeDescription?: string | null; author: Author },
): Promise<SavedVersion | typeof BASE_GONE> {
  const owner = ownerKey(doc);
  const snapshot = await db
    .selectFrom("document_versions")
    .innerJoin("documents", "documents.id", "document_versions.document_id")
    .select([
      "document_versions.id",
      "document_versions.blob_key",
      "document_versions.version_number",
      "documents.last_version_number",
    ])
    .where("document_versions.document_id", "=", doc.id)
    .where("document_versions.storage", "=", "snapshot")
    .where("document_versions.pruned_at", "is", null)
    .orderBy("document_versions.version_number", "desc")
    .limit(1)
    .executeTakeFirst();
  const plan = planStorage(
    input.content,
    snapshot
      ? {
          content: await readText(blobs, snapshot.blob_key),
          dependents: snapshot.last_version_number - snapshot.version_number,
        }
      : null,
  );
  const id = randomUUID();
  const key = versionKey(owner, doc.id, id);
  await blobs.put(key, plan.body, {
    contentType: plan.storage === "snapshot" ? "text/plain; charset=utf-8" : "text/x-diff",
  });
  const contentSha = sha256(input.content);
  const contentSize = Buffer.byteLength(input.content);
  let saved: SavedVersion | typeof BASE_GONE;
  try {
    saved = await transaction(db, async (trx) => {
      const locked = await trx
        .selectFrom("documents")
        .select(["last_version_number", "current_version_id"])
        .where("id", "=", doc.id)
        .forUpdate()
        .executeTakeFirst();
      // Purged (or deleted for good) while this save was on its way.
      if (!locked) throw errors.notFound("document");
      if (plan.storage === "delta" && snapshot) {
        // FOR SHARE holds off the pruning job until this version, which
        // depends on the snapshot, is committed.
        const base = await trx
          .selectFrom("document_versions")
          .select("pruned_at")
          .where("id", "=", snapshot.id)
          .forShare()
          .executeTakeFirst();
        if (!base || base.pruned_at !== null) return BASE_GONE;
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
          storage: plan.storage,
          base_version_id: plan.storage === "delta" ? (snapshot?.id ?? null) : null,
          blob_key: key,
          stored_size: Buffer.byteLength(plan.body),
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
      await trx
        .updateTable("documents")
        .set({
          last_version_number: number,
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
      await indexSavedContent(trx, doc, input);
      return { id, number, kind: input.kind, createdAt: row.created_at };
    });
  } catch (error) {
    // When the commit's outcome is unknown (the connection dropped), the row
    // may exist: the blob stays, and at worst is an orphan for clean-up.
    if (!(error instanceof DatabaseUnavailableError)) await blobs.delete(key).catch(() => {});
    throw error;
  }
  if (saved === BASE_GONE) {
    await blobs.delete(key).catch(() => {});
    return BASE_GONE;
  }
  if (input.kind !== "ai_suggestion") {
    await blobs
      .put(documentContentKey(owner, doc.id), input.content, { contentType: "text/plain; charset=utf-8" })
      .catch(() => {
        // The row already points at the new version; the next read rebuilds this blob.
      });
  }
  return saved;
}

/**
 * For a query over `document_versions as v`: the version is live, or a live
 * version is stored as a patch against it, so its blob is still needed.
 */
export const blobStillNeeded = sql<boolean>`(v.pruned_at is null or exists (
  select 1 from document_versions d where d.base_version_id = v.id and d.pruned_at is null))`;

/**
 * The document's current content. Reads the content blob and checks it
 * against the row; if it is missing or stale (a crash after commit), rebuilds
 * it from the current version and writes it back.
 */
export async function readCurrentContent(
  db: Kysely<Tables>,
  blobs: BlobStore,
  doc: DocumentRef & { content_key: string; content_sha256: string; current_version_id: string | null },
): Promise<string> {
  if (!doc.current_version_id) return "";
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
  const content = await readVersionContent(db, blobs, version);
  // Repair only while this is still the current content: a newer save may
  // have committed since the caller read its row.
  const now = await db.selectFrom("documents").select("content_sha256").where("id", "=", doc.id).executeTakeFirst();
  if (now?.content_sha256 === doc.content_sha256) {
    await blobs.put(doc.content_key, content, { contentType: "text/plain; charset=utf-8" }).catch(() => {});
  }
  return content;
}
