import { sql } from "kysely";
import { transaction } from "../../platform/database/transaction.ts";
import type { Platform } from "../../runtime/platform.ts";
import { blobStillReferenced, reclaimObjects } from "./content-objects.ts";
import { markDocumentsChanging } from "./document-generations.ts";
import { RESTORE_WINDOW_MS } from "./documents.ts";

const BATCH = 500;

export interface MaintenanceReport {
  prunedVersions: number;
  archivedDocuments: number;
  purgedDocuments: number;
  deletedBlobs: number;
}

/** Seed 000's Archival Policies: inactive documents are archived after 90 days without access. */
export const ARCHIVE_AFTER_DAYS = 90;
/** Seed 000's Data Retention Rules: anonymous documents are purged 7 days after their last access. */
export const ANONYMOUS_RETENTION_DAYS = 7;

/**
 * Seed 000's lifecycle rules, run by the module's worker every minute:
 * - minor (autosave) versions expire 24 h after they were saved;
 * - AI suggestion versions go once accepted or rejected;
 * - documents not opened for 90 days are archived;
 * - documents deleted more than 30 days ago, and anonymous documents not
 *   opened for 7 days, are purged with their blobs;
 * - blobs queued for deletion (transferred originals, pruned versions) are
 *   deleted once due.
 * A pruned version disappears from the history. Its content object stays
 * while another live version has the same content or a needed object is a
 * delta against it; the rest are reclaimed (content-objects.ts) and their
 * blobs deleted. A version still in the earlier form keeps its blob while a
 * live version is stored as a patch against it.
 */
export async function runWritingMaintenance(platform: Platform): Promise<MaintenanceReport> {
  const db = platform.database.db;
  const pruned = await db
    .updateTable("document_versions as v")
    .set({ pruned_at: sql`now()` })
    .where("v.pruned_at", "is", null)
    .where((eb) =>
      eb.or([
        eb.and([eb("v.kind", "=", "minor"), eb("v.expires_at", "<", sql<Date>`now()`)]),
        eb.and([eb("v.kind", "=", "ai_suggestion"), eb("v.suggestion_state", "in", ["accepted", "rejected"])]),
      ]),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom("documents as d").select("d.id").whereRef("d.current_version_id", "=", "v.id"))),
    )
    .returning(["v.id", "v.document_id", "v.blob_key"])
    .execute();
  // Earlier form: queue the blobs of pruned versions that no live version is
  // patched against: the ones just pruned, and the pruned snapshots they
  // were patched against, which may have lost their last live dependent.
  const legacy = pruned.filter((p) => p.blob_key !== null);
  if (legacy.length > 0) {
    const ids = sql.join(legacy.map((p) => p.id));
    await sql`
      insert into writing_blob_cleanup (blob_key, delete_after)
      select v.blob_key, now() from document_versions v
      where v.pruned_at is not null and v.blob_key is not null
        and (v.id in (${ids}) or v.id in (select base_version_id from document_versions where id in (${ids})))
        and not exists (select 1 from document_versions d where d.base_version_id = v.id and d.pruned_at is null)
      on conflict (blob_key) do nothing`.execute(db);
  }
  // Content objects, one document at a time under its lock (as saves take it).
  for (const documentId of new Set(pruned.map((p) => p.document_id))) {
    // Reclaiming recounts the history's totals, which a read of the document answers with.
    await transaction(db, async (trx) => {
      await markDocumentsChanging(platform, trx, [documentId]);
      await reclaimObjects(trx, documentId);
    });
  }

  // The archived ids are known once the statement has run, still before its
  // transaction commits: soon enough to mark them changing.
  const archived = await transaction(db, async (trx) => {
    const rows = await trx
      .updateTable("documents")
      .set({ is_archived: true, archived_at: sql`now()` })
      .where("is_archived", "=", false)
      .where("deleted_at", "is", null)
      .where("last_accessed_at", "<", sql<Date>`now() - make_interval(days => ${ARCHIVE_AFTER_DAYS})`)
      .returning("id")
      .execute();
    const ids = rows.map((r) => r.id);
    await markDocumentsChanging(platform, trx, ids);
    return ids.length;
  });

  const cutoff = new Date(Date.now() - RESTORE_WINDOW_MS);
  const purged = await transaction(db, async (trx) => {
    const doomed = await trx
      .selectFrom("documents")
      .select(["id", "content_key"])
      .where((eb) =>
        eb.or([
          eb("deleted_at", "<", cutoff),
          eb.and([
            eb("anonymous_session_id", "is not", null),
            eb("last_accessed_at", "<", sql<Date>`now() - make_interval(days => ${ANONYMOUS_RETENTION_DAYS})`),
          ]),
        ]),
      )
      .limit(BATCH)
      .forUpdate()
      .execute();
    if (doomed.length === 0) return 0;
    const ids = doomed.map((d) => d.id);
    // Already a 404 for a deleted document, but an anonymous one is live until now.
    await markDocumentsChanging(platform, trx, ids);
    await sql`
      insert into writing_blob_cleanup (blob_key, delete_after)
      select blob_key, now() from document_versions where document_id in (${sql.join(ids)}) and blob_key is not null
      union select blob_key, now() from document_objects where document_id in (${sql.join(ids)}) and blob_key is not null
      union select content_key, now() from documents where id in (${sql.join(ids)})
      on conflict (blob_key) do nothing`.execute(trx);
    await trx.updateTable("documents").set({ current_version_id: null }).where("id", "in", ids).execute();
    await trx.deleteFrom("documents").where("id", "in", ids).execute();
    return ids.length;
  });

  const due = await db
    .selectFrom("writing_blob_cleanup")
    .select("blob_key")
    .where("delete_after", "<=", sql<Date>`now()`)
    .limit(BATCH)
    .execute();
  let deletedBlobs = 0;
  for (const { blob_key } of due) {
    // Checked again at the last moment: in the earlier form, a version saved
    // since the key was queued may have been stored as a patch against it.
    if (!(await blobStillReferenced(db, blob_key))) {
      await platform.blobs.delete(blob_key);
      deletedBlobs++;
    }
    await db.deleteFrom("writing_blob_cleanup").where("blob_key", "=", blob_key).execute();
  }
  return {
    prunedVersions: pruned.length,
    archivedDocuments: archived,
    purgedDocuments: purged,
    deletedBlobs,
  };
}
