import { buffer } from "node:stream/consumers";
import { transaction } from "../../platform/database/transaction.ts";
import type { JobContext } from "../../platform/jobs/jobs.ts";
import type { Platform } from "../../runtime/platform.ts";
import { fileTextTask } from "./file-text-tasks.ts";
import { ACCEPTED_TYPES } from "./file-types.ts";
import { FILE_CHUNK_SOURCE, forgetChunkVectors, setFileStatus } from "./files.ts";

/** Chunks written per statement. */
const INSERT_BATCH = 200;

/**
 * A file's processing job: its text extracted and chunked on a compute
 * thread, then, in one transaction, its chunks written and queued for
 * embedding (the platform's outbox) and the file made `ready`. A file whose
 * text cannot be read is `failed` with the reason and nothing else written;
 * a file deleted meanwhile gets nothing.
 */
export async function processFile(platform: Platform, context: JobContext): Promise<void> {
  const fileId = (context.job.payload as { fileId: string }).fileId;
  const db = platform.database.db;
  const file = await db
    .selectFrom("files")
    .select(["id", "file_path", "mime_type"])
    .where("id", "=", fileId)
    .executeTakeFirst();
  if (!file) return;
  await setFileStatus(platform, file.id, "processing");
  const kind = ACCEPTED_TYPES[file.mime_type];
  if (!kind) {
    await setFileStatus(platform, file.id, "failed", `files of type ${file.mime_type} are not read`);
    return;
  }
  // The whole file, once: a PDF is parsed from all of its bytes (at most FILE_MAX_BYTES).
  const { body } = await platform.blobs.get(file.file_path);
  const bytes = new Uint8Array(await buffer(body));
  const read = await platform.compute.run(fileTextTask, { kind, bytes });
  if (!read.ok) {
    await setFileStatus(platform, file.id, "failed", read.reason);
    return;
  }
  await transaction(db, async (trx) => {
    const still = await trx.selectFrom("files").select("id").where("id", "=", file.id).forUpdate().executeTakeFirst();
    if (!still) return;
    // A retried job replaces what an earlier attempt wrote.
    await forgetChunkVectors(platform, trx, [file.id]);
    await trx.deleteFrom("file_chunks").where("file_id", "=", file.id).execute();
    for (let i = 0; i < read.chunks.length; i += INSERT_BATCH) {
      const batch = read.chunks.slice(i, i + INSERT_BATCH);
      const rows = await trx
        .insertInto("file_chunks")
        .values(
          batch.map((c) => ({
            file_id: file.id,
            chunk_index: c.index,
            content: c.content,
            start_offset: c.start,
            end_offset: c.end,
          })),
        )
        .returning(["id", "content"])
        .execute();
      await platform.vectors.queue(
        trx,
        FILE_CHUNK_SOURCE,
        rows.map((r) => ({ id: r.id, text: r.content })),
      );
    }
    await trx
      .updateTable("files")
      .set({ status: "ready", failure_reason: null, chunk_count: read.chunks.length, processed_at: new Date() })
      .where("id", "=", file.id)
      .execute();
    await context.complete(trx);
  });
}
