import { type Kysely, sql } from "kysely";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
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

/** Converts up to `batchSize` documents after the cursor; `finished` once none are left. */
export async function migrateHistoryBatch(platform: Platform, batchSize: number): Promise<MigrationBatch> {
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

/**
 * Runs the migration in the background until it is finished or stopped:
 * batches of `batchSize` documents with a pause between them, so the
 * migration never crowds out requests; a failed batch (an outage) is
 * retried after a while from the last committed document.
 */
export function startHistoryMigration(
  platform: Platform,
  options: { batchSize: number; pauseMs: number },
): () => Promise<void> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const run = (async () => {
    let documents = 0;
    let versions = 0;
    while (!stopped) {
      try {
        const batch = await migrateHistoryBatch(platform, options.batchSize);
        if (batch.finished) {
          if (batch.finishedNow) platform.logger.info({ documents, versions }, "history migration finished");
          return;
        }
        documents += batch.documents;
        versions += batch.versions;
        platform.logger.info({ documents, versions }, "history migration progress");
        await sleep(options.pauseMs);
      } catch (error) {
        if (stopped) return;
        platform.logger.error({ err: error }, "history migration batch failed; retrying");
        await sleep(5_000);
      }
    }
  })();
  return async () => {
    stopped = true;
    (wake as (() => void) | null)?.();
    await run;
  };
}
