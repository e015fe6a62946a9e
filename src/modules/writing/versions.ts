import type { Principal } from "../../platform/identity/principal.ts";
import { decodeNumberCursor, encodeNumberCursor, type Page } from "../../platform/pagination.ts";
import type { Platform } from "../../runtime/platform.ts";
import { displayDiffTask } from "./compute-tasks.ts";
import { readOwnedDocument } from "./document-read.ts";
import { checkContent, ownedDocument } from "./documents.ts";
import { authorOf } from "./owner-scope.ts";
import type { DiffView, VersionView, VersionWithContentView } from "./schemas.ts";
import { INLINE_INDEX_BYTES } from "./search-index.ts";
import type { VersionKind } from "./tables.ts";
import { findVersion, readVersionContent, type SavedVersion, saveVersion } from "./version-store.ts";
import { versionView } from "./views.ts";

export async function addVersion(
  platform: Platform,
  principal: Principal,
  documentId: string,
  input: { content: string; kind?: VersionKind; changeDescription?: string },
): Promise<SavedVersion> {
  checkContent(input.content);
  const doc = await ownedDocument(platform, principal, documentId);
  return saveVersion(platform.database.db, platform, doc, {
    content: input.content,
    kind: input.kind ?? "major",
    changeDescription: input.changeDescription ?? null,
    author: authorOf(principal),
  });
}

/** Versions newest first; pruned ones (expired autosaves, decided suggestions) are gone. */
export async function listVersions(
  platform: Platform,
  principal: Principal,
  documentId: string,
  options: { limit: number; cursor?: string; kind?: VersionKind },
): Promise<Page<VersionView>> {
  await ownedDocument(platform, principal, documentId);
  const after = decodeNumberCursor(options.cursor);
  let query = platform.database.read
    .selectFrom("document_versions")
    .selectAll()
    .where("document_id", "=", documentId)
    .where("pruned_at", "is", null);
  if (options.kind) query = query.where("kind", "=", options.kind);
  if (after !== null) query = query.where("version_number", "<", after);
  const rows = await query
    .orderBy("version_number", "desc")
    .limit(options.limit + 1)
    .execute();
  const items = rows.slice(0, options.limit);
  return {
    items: items.map(versionView),
    nextCursor: rows.length > options.limit ? encodeNumberCursor(items.at(-1)?.version_number as number) : null,
  };
}

export async function getVersion(
  platform: Platform,
  principal: Principal,
  documentId: string,
  number: number,
): Promise<VersionWithContentView> {
  // Usually from this process's row cache (document-read.ts): no statement.
  await readOwnedDocument(platform, principal, documentId);
  const version = await findVersion(platform.database.db, documentId, number);
  const content = await readVersionContent(platform.database.db, platform, version);
  return { ...versionView(version), content };
}

/**
 * A structured diff from one version to another of the same document, lines
 * first and changed hunks refined by words (src/modules/writing/display-diff.ts),
 * ready for a client to render. Large documents are diffed on the compute
 * pool so the event loop keeps serving; a saturated pool answers 503
 * `compute_busy` with Retry-After.
 */
export async function diffVersions(
  platform: Platform,
  principal: Principal,
  documentId: string,
  from: number,
  to: number,
): Promise<DiffView> {
  await ownedDocument(platform, principal, documentId);
  const [a, b] = await Promise.all([
    findVersion(platform.database.db, documentId, from),
    findVersion(platform.database.db, documentId, to),
  ]);
  const [before, after] = await Promise.all([
    readVersionContent(platform.database.db, platform, a),
    readVersionContent(platform.database.db, platform, b),
  ]);
  const { changes, stats } = await platform.compute.run(displayDiffTask, { before, after });
  return { from, to, changes, stats };
}

/**
 * Restores an old version by saving its content as a new major version;
 * history is never rewritten. The content is already a stored object of
 * the document, so the new version refers to it without reading or
 * encoding it; only a small text is read, to be searchable as soon as the
 * restore is acknowledged (search-index.ts), and a version the history
 * migration has not reached yet has no object to refer to.
 */
export async function restoreVersion(platform: Platform, principal: Principal, documentId: string, number: number) {
  const doc = await readOwnedDocument(platform, principal, documentId);
  const version = await findVersion(platform.database.db, documentId, number);
  const common = {
    kind: "major" as const,
    changeDescription: `Restored version ${number}`,
    author: authorOf(principal),
  };
  if (version.blob_key === null && version.content_size > INLINE_INDEX_BYTES) {
    return saveVersion(platform.database.db, platform, doc, {
      ...common,
      held: { sha256: version.content_sha256, size: version.content_size },
    });
  }
  const content = await readVersionContent(platform.database.db, platform, version);
  return saveVersion(platform.database.db, platform, doc, { ...common, content });
}
