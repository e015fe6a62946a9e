import { setTimeout as delay } from "node:timers/promises";
import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { JobContext } from "../../platform/jobs/jobs.ts";
import type { Platform } from "../../runtime/platform.ts";
import { type ContentStorage, insertObject, planObject, readObjectContent, reclaimObjects } from "./content-objects.ts";
import { type GenerationsPlatform, markDocumentsChanging } from "./document-generations.ts";
import type { ObjectKind } from "./object-codec.ts";
import { readLegacyVersion } from "./version-store.ts";

/**
 * The background migration of version histories from the earlier form (a
 * snapshot or diff-match-patch patch blob per version) to content objects.
 *
 * It walks documents holding versions in the earlier form, in id order, a
 * bounded batch at a time, and converts each document in one transaction
 * holding the document row's lock (as saves do; a save to that document
 * waits for the conversion, once):
 * 1. every live version's content is read with the legacy reader (checked
 *    against its SHA-256) and stored as saves store it, in version order,
 *    each after the one before (planObject), reusing content the document
 *    already holds; blob-held objects are written to fresh keys;
 * 2. every converted version is read back from the stored objects and its
 *    SHA-256 compared, and only then is the old form dropped: the versions
 *    point at their objects and the old blobs are queued for deletion.
 * The progress row (cursor and counts) moves in the same transaction, so a
 * crash at any point resumes from the last document committed and never
 * loses a version; blobs written for a transaction that never committed
 * are referenced by nothing and deleted when it fails (or left as orphans
 * by a crash).
 * A document whose old form does not restore to its checksum cannot be
 * converted; it is left as it is (still readable, as far as it reads),
 * counted in documents_failed and logged, and the walk moves on.
 */

export interface MigrationBatch {
  documents: number;
  versions: number;
  /** No document is left in the earlier form. */
  finished: boolean;
  /** This call is the one that found nothing left and marked the migration finished. */
  finishedNow?: boolean;
}

class CorruptLegacyHistory extends Error {}

/**
 * Converts up to `batchSize` documents after the cursor; `finished` once none
 * are left. Throws `signal`'s reason before a document once it is aborted
 * (the documents converted so far are committed).
 */
export async function migrateHistoryBatch(
  platform: Platform,
  batchSize: number,
  signal?: AbortSignal,
): Promise<MigrationBatch> {
  const db = platform.database.db;
  const progress = await db
    .selectFrom("writing_history_migration")
    .select(["cursor_document_id", "finished_at"])
    .where("id", "=", 1)
    .executeTakeFirst();
  if (!progress || progress.finished_at) return { documents: 0, versions: 0, finished: true };
  let query = db
    .selectFrom("documents as d")
    .select("d.id")
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom("document_versions as v")
          .select("v.id")
          .whereRef("v.document_id", "=", "d.id")
          .where("v.blob_key", "is not", null),
      ),
    );
  if (progress.cursor_document_id) query = query.where("d.id", ">", progress.cursor_document_id);
  const docs = await query.orderBy("d.id").limit(batchSize).execute();
  if (docs.length === 0) {
    await db.updateTable("writing_history_migration").set({ finished_at: sql`now()` }).where("id", "=", 1).execute();
    return { documents: 0, versions: 0, finished: true, finishedNow: true };
  }
  let versions = 0;
  for (const { id } of docs) {
    signal?.throwIfAborted();
    try {
      versions += await migrateDocumentHistory(db, platform, id);
    } catch (error) {
      if (!(error instanceof CorruptLegacyHistory)) throw error;
      platform.logger.error({ documentId: id, err: error }, "a document's history could not be migrated");
      await db
        .updateTable("writing_history_migration")
        .set({
          cursor_document_id: sql`greatest(coalesce(cursor_document_id, ${id}), ${id})`,
          documents_failed: sql`documents_failed + 1`,
        })
        .where("id", "=", 1)
        .execute();
    }
  }
  return { documents: docs.length, versions, finished: false };
}

/** Converts one document's history; returns how many versions were converted. */
export async function migrateDocumentHistory(
  db: Kysely<Tables>,
  storage: ContentStorage & GenerationsPlatform,
  documentId: string,
) {
  const { blobs } = storage;
  const written: string[] = [];
  try {
    const converted = await transaction(db, async (trx) => {
      // The document's lock, as saves take it, for the whole conversion: the
      // history cannot move under it, and nothing is reclaimed meanwhile.
      const doc = await trx
        .selectFrom("documents")
        .select(["id", "user_id", "anonymous_session_id"])
        .where("id", "=", documentId)
        .forUpdate()
        .executeTakeFirst();
      if (!doc) return 0;
      const legacy = await trx
        .selectFrom("document_versions")
        .select(["id", "version_number", "storage", "base_version_id", "blob_key", "content_sha256", "pruned_at"])
        .where("document_id", "=", documentId)
        .where("blob_key", "is not", null)
        .orderBy("version_number")
        .execute();
      // Converted meanwhile by another worker process: nothing to do or count.
      if (legacy.length === 0) return 0;
      const live = legacy.filter((v) => v.pruned_at === null);

      // Each live version in order, stored after the one before it, exactly
      // as saves store them; content already held is reused.
      const created = new Map<string, number>();
      let current: { sha256: string; content: () => Promise<Buffer> } | null = null;
      let snapshot = new Map<string, string>();
      for (const version of live) {
        if (version.storage === "snapshot") snapshot = new Map(); // patches apply to the latest snapshot only
        let text: string;
        try {
          text = await readLegacyVersion(trx, blobs, version as typeof version & { blob_key: string }, snapshot);
        } catch (error) {
          throw new CorruptLegacyHistory(`version ${version.version_number} does not restore`, { cause: error });
        }
        const bytes = Buffer.from(text, "utf8");
        const plan = await planObject(trx, storage, doc, bytes, version.content_sha256, current);
        if (!plan.reuse) {
          if (plan.blobKey) {
            await blobs.put(plan.blobKey, plan.body, { contentType: "application/octet-stream" });
            written.push(plan.blobKey);
          }
          // Under the lock, and checked just above: nothing else can have stored it.
          if (!(await insertObject(trx, documentId, plan))) throw new Error("object appeared under the lock");
          created.set(plan.sha256, plan.body.byteLength);
        }
        current = { sha256: version.content_sha256, content: async () => bytes };
      }

      // The check before the old form goes: every version, read back from storage.
      for (const version of live) {
        await readObjectContent(trx, storage, documentId, version.content_sha256, { fresh: true });
      }

      const kinds = new Map(
        (
          await trx
            .selectFrom("document_objects")
            .select(["sha256", "kind"])
            .where("document_id", "=", documentId)
            .execute()
        ).map((o) => [o.sha256, o.kind]),
      );
      for (const version of live) {
        const added = created.get(version.content_sha256) ?? 0;
        created.delete(version.content_sha256); // the first version with new content is charged for it
        await trx
          .updateTable("document_versions")
          .set({
            storage: kinds.get(version.content_sha256) as ObjectKind,
            blob_key: null,
            base_version_id: null,
            stored_size: added,
          })
          .where("id", "=", version.id)
          .execute();
      }
      // Pruned versions are never read again: only their blobs go.
      const pruned = legacy.filter((v) => v.pruned_at !== null).map((v) => v.id);
      if (pruned.length > 0) {
        await trx
          .updateTable("document_versions")
          .set({ blob_key: null, base_version_id: null })
          .where("id", "in", pruned)
          .execute();
      }
      if (legacy.length > 0) {
        await trx
          .insertInto("writing_blob_cleanup")
          .values(legacy.map((v) => ({ blob_key: v.blob_key as string, delete_after: new Date() })))
          .onConflict((oc) => oc.column("blob_key").doNothing())
          .execute();
      }
      // Also recounts the history's totals, which a read of the document answers with.
      await markDocumentsChanging(storage, trx, [documentId]);
      await reclaimObjects(trx, documentId);
      await trx
        .updateTable("writing_history_migration")
        .set({
          // Several worker processes may walk at once; the cursor only moves forward.
          cursor_document_id: sql`greatest(coalesce(cursor_document_id, ${documentId}), ${documentId})`,
          documents_migrated: sql`documents_migrated + 1`,
          versions_migrated: sql`versions_migrated + ${live.length}`,
        })
        .where("id", "=", 1)
        .execute();
      return live.length;
    });
    return converted;
  } catch (error) {
    // Nothing committed: the blobs written for it are referenced by nothing.
    await Promise.all(written.map((key) => blobs.delete(key).catch(() => {})));
    throw error;
  }
}

/** The migration's queue: one job, worked by one process at a time. */
export const HISTORY_MIGRATION_QUEUE = "writing.history_migration";
/**
 * An outage pauses the migration rather than ending it: retries back off to
 * five minutes apart, and a thousand of them (days of failing) pass before
 * the job is kept as failed, for `strata jobs retry`.
 */
const MIGRATION_BACKOFF = { baseMs: 5_000, maxMs: 5 * 60_000 };
const MIGRATION_MAX_ATTEMPTS = 1_000;

export interface HistoryMigrationOptions {
  batchSize: number;
  pauseMs: number;
}

/**
 * Runs the migration as a job until it is finished: enqueues it (once across
 * every process that starts, keyed by the migration's start) and works its
 * queue, one run at a time. Nothing starts once the migration is finished.
 * The returned function stops this process's worker; a run in progress ends
 * at its next document and its job is handed back for a later start.
 */
export async function startHistoryMigration(
  platform: Platform,
  options: HistoryMigrationOptions,
): Promise<() => Promise<void>> {
  const db = platform.database.db;
  const progress = await db
    .selectFrom("writing_history_migration")
    .select(["started_at", "finished_at"])
    .where("id", "=", 1)
    .executeTakeFirst();
  if (!progress || progress.finished_at) return async () => {};
  // The key names this migration (its progress row's start), so a process
  // starting while another runs it, or after a crash, adds no second job.
  await platform.jobs.enqueue(db, {
    queue: HISTORY_MIGRATION_QUEUE,
    uniqueKey: `history:${progress.started_at.toISOString()}`,
    maxAttempts: MIGRATION_MAX_ATTEMPTS,
  });
  return platform.jobs.work(HISTORY_MIGRATION_QUEUE, (context) => runHistoryMigration(platform, options, context), {
    queueConcurrency: 1,
    backoff: MIGRATION_BACKOFF,
  });
}

/**
 * The job's handler: batches of `batchSize` documents with a pause between
 * them, so the migration never crowds out requests, until none is left.
 * It stops between documents when the worker stops or loses the job (every
 * document commits on its own, so the next run resumes after the last one);
 * a failed batch (an outage) fails the attempt, and the job service retries
 * it with backoff from the last committed document.
 */
export async function runHistoryMigration(
  platform: Platform,
  options: HistoryMigrationOptions,
  context: Pick<JobContext, "signal" | "stopping">,
): Promise<void> {
  const stop = AbortSignal.any([context.signal, context.stopping]);
  let documents = 0;
  let versions = 0;
  for (;;) {
    const batch = await migrateHistoryBatch(platform, options.batchSize, stop);
    if (batch.finished) {
      if (batch.finishedNow) platform.logger.info({ documents, versions }, "history migration finished");
      return;
    }
    documents += batch.documents;
    versions += batch.versions;
    platform.logger.info({ documents, versions }, "history migration progress");
    await delay(options.pauseMs, undefined, { signal: stop }).catch(() => {});
    stop.throwIfAborted();
  }
}
