import { makeDiff, makePatches, stringifyPatches } from "@sanity/diff-match-patch";
import { type Kysely, sql } from "kysely";
import type { ContentStorage } from "../../src/modules/writing/content-objects.ts";
import { applyLegacyPatch } from "../../src/modules/writing/legacy-patch.ts";
import { ownerKey, versionKey } from "../../src/modules/writing/storage-keys.ts";
import { readVersionContent } from "../../src/modules/writing/version-store.ts";
import type { Tables } from "../../src/platform/database/tables.ts";

/**
 * Rewrites a document's history into the earlier storage form, as the
 * server wrote it before content objects: a blob per version, either the
 * whole text ("snapshot", every `snapshotEvery` versions) or a
 * diff-match-patch patch against the latest snapshot ("delta"). Then the
 * document's content objects go, so only the history migration can bring
 * the history back into the current form.
 */
export async function rewriteAsLegacyHistory(
  db: Kysely<Tables>,
  storage: ContentStorage,
  documentId: string,
  snapshotEvery = 3,
): Promise<void> {
  const { blobs } = storage;
  const doc = await db
    .selectFrom("documents")
    .select(["id", "user_id", "anonymous_session_id"])
    .where("id", "=", documentId)
    .executeTakeFirstOrThrow();
  const versions = await db
    .selectFrom("document_versions")
    .selectAll()
    .where("document_id", "=", documentId)
    .where("pruned_at", "is", null)
    .orderBy("version_number")
    .execute();
  const contents = [];
  for (const version of versions) contents.push(await readVersionContent(db, storage, version));
  let snapshot: { id: string; text: string } | null = null;
  for (const [i, version] of versions.entries()) {
    const text = contents[i] as string;
    const key = versionKey(ownerKey(doc), documentId, version.id);
    const patch = snapshot ? stringifyPatches(makePatches(snapshot.text, makeDiff(snapshot.text, text))) : null;
    // As the earlier form did: a patch that would not restore exactly is stored whole.
    if (!snapshot || !patch || i % snapshotEvery === 0 || !restores(snapshot.text, patch, text)) {
      await blobs.put(key, text);
      await db
        .updateTable("document_versions")
        .set({ storage: "snapshot", blob_key: key, base_version_id: null, stored_size: Buffer.byteLength(text) })
        .where("id", "=", version.id)
        .execute();
      snapshot = { id: version.id, text };
    } else {
      await blobs.put(key, patch);
      await db
        .updateTable("document_versions")
        .set({ storage: "delta", blob_key: key, base_version_id: snapshot.id, stored_size: Buffer.byteLength(patch) })
        .where("id", "=", version.id)
        .execute();
    }
  }
  const objects = await db
    .selectFrom("document_objects")
    .select("blob_key")
    .where("document_id", "=", documentId)
    .execute();
  await db.deleteFrom("document_objects").where("document_id", "=", documentId).execute();
  for (const { blob_key } of objects) if (blob_key) await blobs.delete(blob_key);
  // A conversion starting afresh, as the upgrade from the earlier form starts one (its start names its job).
  await sql`update writing_history_migration
    set cursor_document_id = null, finished_at = null, started_at = now()`.execute(db);
}

function restores(snapshot: string, patch: string, text: string): boolean {
  try {
    return applyLegacyPatch(snapshot, patch) === text;
  } catch {
    return false;
  }
}
