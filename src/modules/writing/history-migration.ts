import { randomUUID } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type { BlobStore } from "../../platform/blobs/blob-store.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import { INLINE_MAX_BYTES, readObjectContent, reclaimObjects } from "./content-objects.ts";
import { encodeObject, MAX_CHAIN_DEPTH, type ObjectKind } from "./object-codec.ts";
import { ownerKey, versionKey } from "./storage-keys.ts";
import { readLegacyVersion } from "./version-store.ts";

/**
 * The background migration of version histories from the earlier form (a
 * snapshot or diff-match-patch patch blob per version) to content objects.
 *
 * It walks documents holding versions in the earlier form, in id order, a
 * bounded batch at a time, and converts each document in one transaction:
 * 1. outside the transaction, every live version's content is read with the
 *    legacy reader (checked against its SHA-256) and encoded as objects, in
 *    version order, each against the previous version's, reusing objects
 *    the document already has; blob-held objects are written to fresh keys;
 * 2. the transaction locks the document row (as saves do), inserts the
 *    objects, then reads every converted version back from the stored
 *    objects and compares its SHA-256, and only then drops the old form:
 *    the versions point at their objects and the old blobs are queued for
 *    deletion. The progress row (cursor and counts) moves in the same
 *    transaction, so a crash at any point resumes from the last document
 *    committed and never loses a version; blobs written for a transaction
 *    that never committed are orphans, never referenced.
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
      versions += await migrateDocumentHistory(db, platform.blobs, id);
    } catch (error) {
      if (!(error instanceof CorruptLegacyHistory)) throw error;
      platform.logger.error({ documentId: id, err: error }, "a document's history could not be migrated");
      await db
        .updateTable("writing_history_migration")
        .set({ cursor_document_id: id, documents_failed: sql`documents_failed + 1` })
        .where("id", "=", 1)
        .execute();
    }
  }
  return { documents: docs.length, versions, finished: false };
}

interface PlannedObject {
  sha256: string;
  kind: ObjectKind;
  baseSha: string | null;
  depth: number;
  contentSize: number;
  body: Buffer;
  blobKey: string | null;
}

/** Converts one document's history; returns how many versions were converted. */
export async function migrateDocumentHistory(db: Kysely<Tables>, blobs: BlobStore, documentId: string) {
  const doc = await db
    .selectFrom("documents")
    .select(["id", "user_id", "anonymous_session_id"])
    .where("id", "=", documentId)
    .executeTakeFirst();
  if (!doc) return 0;
  const legacy = await db
    .selectFrom("document_versions")
    .select(["id", "version_number", "storage", "base_version_id", "blob_key", "content_sha256", "pruned_at"])
    .where("document_id", "=", documentId)
    .where("blob_key", "is not", null)
    .orderBy("version_number")
    .execute();
  const live = legacy.filter((v) => v.pruned_at === null);
  const existing = new Map(
    (
      await db
        .selectFrom("document_objects")
        .select(["sha256", "depth"])
        .where("document_id", "=", documentId)
        .execute()
    ).map((o) => [o.sha256, o.depth]),
  );

  const planned = new Map<string, PlannedObject>();
  const snapshots = new Map<string, string>();
  let previous: { sha: string; content: Buffer; depth: number } | null = null;
  for (const version of live) {
    let text: string;
    try {
      text = await readLegacyVersion(db, blobs, version as typeof version & { blob_key: string }, snapshots);
    } catch (error) {
      throw new CorruptLegacyHistory(`version ${version.version_number} does not restore`, { cause: error });
    }
    const content = Buffer.from(text, "utf8");
    const sha = version.content_sha256;
    const known = existing.get(sha) ?? planned.get(sha)?.depth;
    if (known !== undefined) {
      previous = { sha, content, depth: known };
      continue;
    }
    const base = previous && previous.depth < MAX_CHAIN_DEPTH ? previous : null;
    const encoded = await encodeObject(content, base?.content ?? null);
    const isDelta = encoded.kind === "delta" && base !== null;
    const object: PlannedObject = {
      sha256: sha,
      kind: encoded.kind,
      baseSha: isDelta ? base.sha : null,
      depth: isDelta ? base.depth + 1 : 0,
      contentSize: content.byteLength,
      body: encoded.body,
      blobKey:
        encoded.kind === "keyframe" || encoded.body.byteLength > INLINE_MAX_BYTES
          ? versionKey(ownerKey(doc), documentId, randomUUID())
          : null,
    };
    planned.set(sha, object);
    previous = { sha, content, depth: object.depth };
  }

  const written: string[] = [];
  try {
    for (const object of planned.values()) {
      if (!object.blobKey) continue;
      await blobs.put(object.blobKey, object.body, { contentType: "application/octet-stream" });
      written.push(object.blobKey);
    }
    const committed = await transaction(db, async (trx) => {
      const locked = await trx
        .selectFrom("documents")
        .select("id")
        .where("id", "=", documentId)
        .forUpdate()
        .executeTakeFirst();
      if (!locked) return false;
      // Objects reused from the document (saved in the new form since) must
      // still be there; under the lock, nothing can reclaim them until commit.
      const reused = [...new Set(live.map((v) => v.content_sha256))].filter((sha) => !planned.has(sha));
      if (reused.length > 0) {
        const present = await trx
          .selectFrom("document_objects")
          .select("sha256")
          .where("document_id", "=", documentId)
          .where("sha256", "in", reused)
          .execute();
        if (present.length !== reused.length) throw new Error("an object the migration reuses was reclaimed; retrying");
      }
      for (const object of planned.values()) {
        const inserted = await trx
          .insertInto("document_objects")
          .values({
            document_id: documentId,
            sha256: object.sha256,
            kind: object.kind,
            base_sha256: object.baseSha,
            depth: object.depth,
            content_size: object.contentSize,
            stored_size: object.body.byteLength,
            body: object.blobKey ? null : object.body,
            blob_key: object.blobKey,
          })
          .onConflict((oc) => oc.columns(["document_id", "sha256"]).doNothing())
          .returning("sha256")
          .executeTakeFirst();
        // A save stored the same content meanwhile; plan again with it.
        if (!inserted) throw new Error("the document gained the same content meanwhile; retrying");
      }
      // The check before the old form goes: every version, read back from storage.
      for (const version of live) {
        await readObjectContent(trx, blobs, documentId, version.content_sha256);
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
      const firstOf = new Map<string, string>();
      for (const version of live)
        if (!firstOf.has(version.content_sha256)) firstOf.set(version.content_sha256, version.id);
      for (const version of live) {
        const object = planned.get(version.content_sha256);
        await trx
          .updateTable("document_versions")
          .set({
            storage: kinds.get(version.content_sha256) as ObjectKind,
            blob_key: null,
            base_version_id: null,
            stored_size: object && firstOf.get(version.content_sha256) === version.id ? object.body.byteLength : 0,
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
      // Also drops objects made for versions pruned meanwhile, and recounts.
      await reclaimObjects(trx, documentId);
      await trx
        .updateTable("writing_history_migration")
        .set({
          cursor_document_id: documentId,
          documents_migrated: sql`documents_migrated + 1`,
          versions_migrated: sql`versions_migrated + ${live.length}`,
        })
        .where("id", "=", 1)
        .execute();
      return true;
    });
    if (!committed) await Promise.all(written.map((key) => blobs.delete(key).catch(() => {})));
    return committed ? live.length : 0;
  } catch (error) {
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
