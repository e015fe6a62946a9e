import { randomUUID } from "node:crypto";
import type { TransferContext } from "../../platform/identity/ownership-transfer.ts";
import type { Platform } from "../../runtime/platform.ts";
import { legacyBlobStillNeeded } from "./content-objects.ts";
import { markDocumentsChanging } from "./document-generations.ts";
import { documentContentKey, versionKey } from "./storage-keys.ts";

/**
 * Seed 000's Document Transfer Mechanism, as an ownership-transfer hook:
 * 1. every blob of the session's documents (blob-held content objects, the
 *    current content, versions still in the earlier form) is copied to the
 *    user's keys; deltas held inline in the database need nothing;
 * 2. the rows are updated to the new owner, tenant and keys;
 * 3. the originals are kept until the anonymous session would have expired,
 *    then deleted by the clean-up job;
 * 4. it all happens inside the registration (or login) transaction: if a copy
 *    fails midway, the transaction rolls back, the rows still point at the
 *    originals, and the copies made so far are deleted after the rollback.
 *    (The key-value side needs nothing: cached AI answers are keyed by content.)
 */
export async function transferDocuments(
  { trx, anonymousSessionId, anonymousSessionExpiresAt, userId, toOrganizationId, afterRollback }: TransferContext,
  platform: Platform,
): Promise<void> {
  const blobs = platform.blobs;
  {
    const docs = await trx
      .selectFrom("documents")
      .select(["id", "content_key"])
      .where("anonymous_session_id", "=", anonymousSessionId)
      .execute();
    if (docs.length === 0) return;
    // Their owner, tenant and keys change: no process may serve them as they were
    // once the registration or login answers (the mark ends after its transaction).
    await markDocumentsChanging(
      platform,
      trx,
      docs.map((d) => d.id),
    );
    const copied: string[] = [];
    const originals: string[] = [];
    // If this or any later hook fails, the rows roll back to the originals and the copies go.
    afterRollback(async () => {
      await Promise.all(copied.map((key) => blobs.delete(key).catch(() => {})));
    });
    for (const doc of docs) {
      const objects = await trx
        .selectFrom("document_objects")
        .select(["sha256", "blob_key"])
        .where("document_id", "=", doc.id)
        .where("blob_key", "is not", null)
        .execute();
      for (const object of objects) {
        const target = versionKey(userId, doc.id, randomUUID());
        await blobs.copy(object.blob_key as string, target);
        copied.push(target);
        originals.push(object.blob_key as string);
        await trx
          .updateTable("document_objects")
          .set({ blob_key: target })
          .where("document_id", "=", doc.id)
          .where("sha256", "=", object.sha256)
          .execute();
      }
      // Earlier form: live versions, and pruned snapshots that live versions are patched against.
      const versions = await trx
        .selectFrom("document_versions as v")
        .select(["v.id", "v.blob_key"])
        .where("v.document_id", "=", doc.id)
        .where("v.blob_key", "is not", null)
        .where(legacyBlobStillNeeded)
        .execute();
      for (const version of versions) {
        const target = versionKey(userId, doc.id, version.id);
        await blobs.copy(version.blob_key as string, target);
        copied.push(target);
        originals.push(version.blob_key as string);
        await trx.updateTable("document_versions").set({ blob_key: target }).where("id", "=", version.id).execute();
      }
      const contentTarget = documentContentKey(userId, doc.id);
      if (await blobs.head(doc.content_key)) {
        await blobs.copy(doc.content_key, contentTarget);
        copied.push(contentTarget);
        originals.push(doc.content_key);
      }
      await trx
        .updateTable("documents")
        .set({
          user_id: userId,
          anonymous_session_id: null,
          organization_id: toOrganizationId,
          content_key: contentTarget,
        })
        .where("id", "=", doc.id)
        .execute();
    }
    // The tenant key every owned row carries moves with its document.
    for (const table of ["document_versions", "document_search"] as const) {
      await trx
        .updateTable(table)
        .set({ organization_id: toOrganizationId })
        .where(
          "document_id",
          "in",
          docs.map((d) => d.id),
        )
        .execute();
    }
    await trx
      .updateTable("ai_interactions")
      .set({ user_id: userId, anonymous_session_id: null, organization_id: toOrganizationId })
      .where("anonymous_session_id", "=", anonymousSessionId)
      .execute();
    if (originals.length > 0) {
      await trx
        .insertInto("writing_blob_cleanup")
        .values(originals.map((blob_key) => ({ blob_key, delete_after: anonymousSessionExpiresAt })))
        .onConflict((oc) => oc.column("blob_key").doNothing())
        .execute();
    }
  }
}
