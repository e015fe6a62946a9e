import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { type Kysely, type SelectQueryBuilder, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ownerColumn } from "../../platform/identity/owner-scope.ts";
import { ownerOf, type Principal } from "../../platform/identity/principal.ts";
import { newestFirstPage, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { sniffFileType } from "./file-types.ts";
import type { ChatFileView } from "./schemas.ts";
import type { FilesTable } from "./tables.ts";

/** The queue whose jobs read, chunk and embed an uploaded file. */
export const FILE_QUEUE = "chat.file_processing";

/** Bytes read before deciding a file's type: file-type's own reasonable detection size. */
const HEAD_BYTES = 4_100;

export const FILE_COLUMNS = [
  "id",
  "user_id",
  "anonymous_session_id",
  "organization_id",
  "filename",
  "file_path",
  "file_size",
  "mime_type",
  "content_sha256",
  "status",
  "failure_reason",
  "chunk_count",
  "created_at",
  "processed_at",
] as const;

type FileRow = Pick<
  FilesTable,
  "user_id" | "anonymous_session_id" | "organization_id" | "filename" | "file_path" | "mime_type" | "content_sha256"
> & {
  id: string;
  file_size: string | number;
  status: ChatFileView["status"];
  failure_reason: string | null;
  chunk_count: number;
  created_at: Date;
  processed_at: Date | null;
};

export function fileView(row: FileRow): ChatFileView {
  return {
    id: row.id,
    filename: row.filename,
    size: Number(row.file_size),
    mimeType: row.mime_type,
    sha256: row.content_sha256,
    status: row.status,
    failureReason: row.failure_reason,
    chunkCount: row.chunk_count,
    createdAt: new Date(row.created_at).toISOString(),
    processedAt: row.processed_at ? new Date(row.processed_at).toISOString() : null,
  };
}

/** The caller's files: every read and write goes through this filter (another owner's is a 404). */
export function scopedFiles(platform: Platform, principal: Principal, db = platform.database.db) {
  const owner = ownerColumn(principal);
  let query = db.selectFrom("files").where(owner.column, "=", owner.value);
  if (owner.organizationId) query = query.where("organization_id", "=", owner.organizationId);
  return query;
}

export async function getFile(platform: Platform, principal: Principal, fileId: string) {
  const row = await scopedFiles(platform, principal).select(FILE_COLUMNS).where("id", "=", fileId).executeTakeFirst();
  if (!row) throw errors.fileNotFound(fileId);
  return row;
}

/**
 * Stores an uploaded file and queues its processing: the content streams to
 * the blob store (never held whole in memory), its type is decided from its
 * first bytes (415 file_type_not_accepted when it is not a type chat files
 * take, or contradicts the declared one), a file over FILE_MAX_BYTES is 413
 * payload_too_large with nothing kept. The same bytes uploaded again by the
 * same owner are the file they already have (`duplicate`), stored once.
 */
export async function uploadFile(
  platform: Platform,
  principal: Principal,
  upload: { filename: string; declaredType: string | null; stream: AsyncIterable<Buffer> },
): Promise<{ file: ChatFileView; duplicate: boolean }> {
  const limit = platform.config.chat.fileMaxBytes;
  const chunks = upload.stream[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < HEAD_BYTES) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  if (head.length > limit) throw errors.payloadTooLarge(limit);
  const sniffed = await sniffFileType(head.subarray(0, HEAD_BYTES), upload.declaredType, upload.filename);
  if (!sniffed.ok) throw errors.fileTypeNotAccepted(sniffed.reason, sniffed.detected, upload.declaredType);

  let size = head.length;
  const body = Readable.from(
    (async function* () {
      yield head;
      for (;;) {
        const next = await chunks.next();
        if (next.done) return;
        size += next.value.length;
        if (size > limit) throw errors.payloadTooLarge(limit);
        yield next.value;
      }
    })(),
  );
  const key = `chat-files/${randomUUID()}`;
  let stored: Awaited<ReturnType<Platform["blobs"]["put"]>>;
  try {
    stored = await platform.blobs.put(key, body, { contentType: sniffed.mime });
  } catch (error) {
    await platform.blobs.delete(key).catch(() => {});
    throw error;
  }
  const owner = ownerColumn(principal);
  const existing = await scopedFiles(platform, principal)
    .select(FILE_COLUMNS)
    .where("content_sha256", "=", stored.sha256)
    .executeTakeFirst();
  if (existing) {
    await platform.blobs.delete(key);
    return { file: fileView(existing), duplicate: true };
  }
  try {
    const row = await transaction(platform.database.db, async (trx) => {
      const inserted = await trx
        .insertInto("files")
        .values({
          ...ownerOf(principal),
          filename: upload.filename.slice(0, 255) || "upload",
          file_path: key,
          file_size: stored.size,
          mime_type: sniffed.mime,
          content_sha256: stored.sha256,
        })
        .returning(FILE_COLUMNS)
        .executeTakeFirstOrThrow();
      await platform.jobs.enqueue(trx, { queue: FILE_QUEUE, payload: { fileId: inserted.id } });
      return inserted;
    });
    return { file: fileView(row), duplicate: false };
  } catch (error) {
    await platform.blobs.delete(key).catch(() => {});
    // The same bytes uploaded twice at once: the other upload's row is the file.
    const raced = await scopedFiles(platform, principal)
      .select(FILE_COLUMNS)
      .where(owner.column, "=", owner.value)
      .where("content_sha256", "=", stored.sha256)
      .executeTakeFirst();
    if (raced) return { file: fileView(raced), duplicate: true };
    throw error;
  }
}

/** The caller's files, newest first, by cursor. */
export function listFiles(
  platform: Platform,
  principal: Principal,
  options: { limit: number; cursor?: string | undefined },
): Promise<Page<ChatFileView>> {
  return newestFirstPage(
    scopedFiles(platform, principal, platform.database.read).select(FILE_COLUMNS),
    options,
    fileView,
  );
}

/** Deletes a file: its chunks (cascade) and their vectors in one transaction, then its blob. */
export async function deleteFile(platform: Platform, principal: Principal, fileId: string): Promise<void> {
  const file = await getFile(platform, principal, fileId);
  await transaction(platform.database.db, async (trx) => {
    await forgetChunkVectors(platform, trx, [file.id]);
    await trx.deleteFrom("files").where("id", "=", file.id).execute();
  });
  await platform.blobs.delete(file.file_path);
}

/** The embedding source of file chunks (file-sources.ts registers it). */
export const FILE_CHUNK_SOURCE = "chat.file_chunks";

/**
 * Forgets the vectors of some files' chunks, in the transaction that
 * deletes or replaces those chunks (vectors name no file: there is no
 * foreign key to cascade). `files` is their ids, or a query of them.
 */
export async function forgetChunkVectors(
  platform: Platform,
  trx: Kysely<Tables>,
  files: readonly string[] | SelectQueryBuilder<Tables, "files", { id: string }>,
): Promise<void> {
  const ids = Array.isArray(files) ? (files as readonly string[]) : null;
  if (ids?.length === 0) return;
  const chunks = await trx
    .selectFrom("file_chunks")
    .select("id")
    .where("file_id", "in", ids ?? (files as SelectQueryBuilder<Tables, "files", { id: string }>))
    .execute();
  await platform.vectors.forget(
    trx,
    FILE_CHUNK_SOURCE,
    chunks.map((c) => c.id),
  );
}

/** Marks a file's processing state; `failed` carries its reason. */
export async function setFileStatus(
  platform: Platform,
  fileId: string,
  status: ChatFileView["status"],
  reason: string | null = null,
) {
  await platform.database.db
    .updateTable("files")
    .set({
      status,
      failure_reason: status === "failed" ? reason : null,
      ...(status === "ready" || status === "failed" ? { processed_at: sql`now()` } : {}),
    })
    .where("id", "=", fileId)
    .execute();
}
