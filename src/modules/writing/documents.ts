import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import { KvUnavailableError } from "../../platform/kv/kv-store.ts";
import type { Platform } from "../../runtime/platform.ts";
import { contentMemory } from "./content-memory.ts";
import { changingDocuments, markDocumentsChanging } from "./document-generations.ts";
import { authorOf, ownerColumn } from "./owner-scope.ts";
import { refreshSearchWeights } from "./search-index.ts";
import { scheduleSearchIndexing } from "./search-indexer.ts";
import { documentContentKey } from "./storage-keys.ts";
import { readCurrentContent, saveVersion } from "./version-store.ts";

/** Contents up to this size are kept in seed 000's doc: cache (300 s). */
const CACHED_CONTENT_BYTES = 256 * 1024;

/**
 * The current content through the doc: cache. Entries are keyed by the
 * content's checksum, so a new version can never be served stale and
 * nothing needs invalidating; only the blob read is saved.
 */
export async function currentContent(
  platform: Platform,
  row: Parameters<typeof readCurrentContent>[2] & { content_size: number },
): Promise<string> {
  const read = () => readCurrentContent(platform.database.db, platform, row);
  if (!row.current_version_id || row.content_size > CACHED_CONTENT_BYTES) return read();
  const memory = contentMemory(platform);
  const held = memory.get(row.content_sha256);
  if (held !== undefined) return held;
  const content = await platform.caches.ns("doc").getOrLoad(`${row.id}:${row.content_sha256}`, read);
  memory.set(row.content_sha256, content);
  return content;
}

import type { DocumentView, DocumentWithContentView, DownloadLinkView } from "./schemas.ts";
import { documentView } from "./views.ts";

/** Soft-deleted documents can be restored for this long (seed 000: deleted documents, 30 days). */
export const RESTORE_WINDOW_MS = 30 * 24 * 3600 * 1000;
export const MAX_CONTENT_BYTES = 2 * 1024 * 1024;

export const DOCUMENT_COLUMNS = [
  "documents.id",
  "documents.title",
  "documents.description",
  "documents.tags",
  "documents.is_archived",
  "documents.archived_at",
  "documents.user_id",
  "documents.anonymous_session_id",
  "documents.organization_id",
  "documents.current_version_id",
  "documents.current_version_number",
  "documents.content_key",
  "documents.content_size",
  "documents.content_sha256",
  "documents.history_versions",
  "documents.history_stored_bytes",
  "documents.created_at",
  "documents.updated_at",
  "documents.last_accessed_at",
  "documents.deleted_at",
] as const;

export function checkContent(content: string, field = "body.content"): void {
  if (content.trim().length === 0) {
    throw errors.validationFailed([{ field, code: "empty", message: "must contain some text" }]);
  }
  if (Buffer.byteLength(content) > MAX_CONTENT_BYTES) {
    throw errors.validationFailed([
      { field, code: "too_large", message: `must be at most ${MAX_CONTENT_BYTES} bytes` },
    ]);
  }
}

/** A document row as ownedDocument and readOwnedDocument return it. */
export type DocumentRow = Awaited<ReturnType<typeof ownedDocument>>;

/**
 * The caller's document, or 404. Deleted documents are found only when
 * `includeDeleted` is set (restore, trash listing).
 */
export async function ownedDocument(
  platform: Platform,
  principal: Principal,
  id: string,
  options: { includeDeleted?: boolean } = {},
) {
  const owner = ownerColumn(principal);
  let query = platform.database.db
    .selectFrom("documents")
    .select(DOCUMENT_COLUMNS)
    .where("documents.id", "=", id)
    .where(`documents.${owner.column}`, "=", owner.value);
  if (owner.organizationId) query = query.where("documents.organization_id", "=", owner.organizationId);
  if (!options.includeDeleted) query = query.where("documents.deleted_at", "is", null);
  const row = await query.executeTakeFirst();
  if (!row) throw errors.documentNotFound();
  return row;
}

export async function createDocument(
  platform: Platform,
  principal: Principal,
  input: { title: string; content: string; description?: string; tags?: string[] },
): Promise<DocumentWithContentView> {
  checkContent(input.content);
  const id = randomUUID();
  const owner = ownerColumn(principal);
  const row = await transaction(platform.database.db, async (trx) => {
    // Created either before a concurrent claim, and moved with the rest, or after it, and refused.
    if (principal.kind === "anonymous" && !(await platform.identity.holdAnonymousSession(trx, principal.sessionId))) {
      throw errors.anonymousSessionExpired();
    }
    await trx
      .insertInto("documents")
      .values({
        id,
        user_id: owner.column === "user_id" ? owner.value : null,
        anonymous_session_id: owner.column === "anonymous_session_id" ? owner.value : null,
        organization_id: principal.organizationId,
        title: input.title,
        description: input.description ?? null,
        tags: normalizeTags(input.tags ?? []),
        content_key: documentContentKey(owner.value, id),
      })
      .execute();
    const doc = await trx
      .selectFrom("documents")
      .select(DOCUMENT_COLUMNS)
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    const saved = await saveVersion(trx, platform, doc, {
      content: input.content,
      kind: "major",
      changeDescription: "Created",
      author: authorOf(principal),
    });
    const created = await trx
      .selectFrom("documents")
      .select(DOCUMENT_COLUMNS)
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    return { created, searchDeferred: saved.searchDeferred };
  });
  if (row.searchDeferred) void scheduleSearchIndexing(platform, id);
  return { ...documentView(row.created), content: input.content };
}

/**
 * Records that a document was used (read, downloaded, sent for a
 * suggestion), at most once a minute: seed 000 archives documents 90 days
 * after their last access and purges anonymous ones after 7.
 */
export async function touchDocument(platform: Platform, id: string): Promise<void> {
  const db = platform.database.db;
  try {
    await changingDocuments(platform, [id], () =>
      db
        .updateTable("documents")
        .set({ last_accessed_at: sql`now()` })
        .where("id", "=", id)
        .where("last_accessed_at", "<", sql<Date>`now() - interval '1 minute'`)
        .execute(),
    );
  } catch (error) {
    // The key-value store could not mark the change (server profile): the
    // touch waits for a later use rather than fail a read that reads without it.
    if (!(error instanceof KvUnavailableError)) throw error;
  }
}

export async function updateDocument(
  platform: Platform,
  principal: Principal,
  id: string,
  patch: { title?: string; description?: string | null; tags?: string[]; isArchived?: boolean },
): Promise<DocumentView> {
  const { id: documentId } = await ownedDocument(platform, principal, id);
  await transaction(platform.database.db, async (trx) => {
    await markDocumentsChanging(platform, trx, [documentId]);
    await trx
      .updateTable("documents")
      .set({
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.tags !== undefined ? { tags: normalizeTags(patch.tags) } : {}),
        ...(patch.isArchived !== undefined
          ? { is_archived: patch.isArchived, archived_at: patch.isArchived ? sql`coalesce(archived_at, now())` : null }
          : {}),
        updated_at: sql`now()`,
      })
      .where("id", "=", documentId)
      .execute();
    // Title and description are weighted into the search vector.
    if (patch.title !== undefined || patch.description !== undefined) await refreshSearchWeights(trx, documentId);
  });
  return documentView(await ownedDocument(platform, principal, documentId));
}

export async function deleteDocument(platform: Platform, principal: Principal, id: string): Promise<void> {
  const { id: documentId } = await ownedDocument(platform, principal, id);
  const db = platform.database.db;
  await changingDocuments(platform, [documentId], () =>
    db.updateTable("documents").set({ deleted_at: sql`now()` }).where("id", "=", documentId).execute(),
  );
}

export async function restoreDocument(platform: Platform, principal: Principal, id: string): Promise<DocumentView> {
  const row = await ownedDocument(platform, principal, id, { includeDeleted: true });
  if (!row.deleted_at) return documentView(row);
  if (Date.now() - row.deleted_at.getTime() > RESTORE_WINDOW_MS) {
    throw errors.restoreWindowPassed();
  }
  const db = platform.database.db;
  await changingDocuments(platform, [row.id], () =>
    db.updateTable("documents").set({ deleted_at: null }).where("id", "=", row.id).execute(),
  );
  return documentView({ ...row, deleted_at: null });
}

/** A short-lived link to the current content, after the ownership check. */
export async function downloadUrl(platform: Platform, principal: Principal, id: string): Promise<DownloadLinkView> {
  const row = await ownedDocument(platform, principal, id);
  await readCurrentContent(platform.database.db, platform, row); // repairs a stale blob first
  await touchDocument(platform, row.id);
  const expiresIn = Math.min(platform.config.signedUrlTtlSeconds, 3600);
  const url = await platform.blobs.signedUrl(row.content_key, {
    expiresInSeconds: expiresIn,
    downloadName: `${row.title.replace(/[^\w .-]+/g, "_").slice(0, 100) || "document"}.txt`,
  });
  return { url, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() };
}

/** Tags are trimmed, lower-cased and de-duplicated, so filters match however they were typed. */
export function normalizeTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim().toLowerCase()).filter(Boolean))].sort();
}
