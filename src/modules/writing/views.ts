import type { Selectable } from "kysely";
import type { DocumentView, NewVersionView, PromptTemplateView, VersionView } from "./schemas.ts";
import type { DocumentsTable, DocumentVersionsTable, PromptTemplatesTable } from "./tables.ts";
import type { SavedVersion } from "./version-store.ts";

/**
 * Rows mapped to API objects, in one place: the API speaks camelCase and
 * never shows a column it does not mean to (blob keys, checksums). Each
 * takes the columns it reads of its table's row type and returns the view
 * its schema defines (schemas.ts).
 */

export function documentView(
  row: Pick<
    Selectable<DocumentsTable>,
    | "id"
    | "title"
    | "description"
    | "tags"
    | "is_archived"
    | "archived_at"
    | "user_id"
    | "organization_id"
    | "current_version_id"
    | "current_version_number"
    | "content_size"
    | "history_versions"
    | "history_stored_bytes"
    | "created_at"
    | "updated_at"
    | "last_accessed_at"
    | "deleted_at"
  >,
): DocumentView {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    tags: row.tags,
    isArchived: row.is_archived,
    archivedAt: row.archived_at?.toISOString() ?? null,
    currentVersion: { id: row.current_version_id, number: row.current_version_number },
    contentSize: row.content_size,
    history: { versions: row.history_versions, storedBytes: Number(row.history_stored_bytes) },
    owner: { kind: row.user_id ? "user" : "anonymous" },
    organizationId: row.organization_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    lastAccessedAt: row.last_accessed_at.toISOString(),
    deletedAt: row.deleted_at?.toISOString() ?? null,
  };
}

export function versionView(
  row: Pick<
    Selectable<DocumentVersionsTable>,
    | "id"
    | "version_number"
    | "kind"
    | "change_description"
    | "created_by_user_id"
    | "previous_version_id"
    | "content_size"
    | "storage"
    | "stored_size"
    | "suggestion_state"
    | "created_at"
    | "expires_at"
  >,
): VersionView {
  return {
    id: row.id,
    number: row.version_number,
    kind: row.kind,
    changeDescription: row.change_description,
    author: { userId: row.created_by_user_id, anonymous: row.created_by_user_id === null },
    previousVersionId: row.previous_version_id,
    contentSize: row.content_size,
    storage: row.storage,
    storedSize: row.stored_size,
    suggestionState: row.suggestion_state,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
  };
}

/** The version a save or a restore made (saveVersion's result). */
export function newVersionView(saved: SavedVersion): NewVersionView {
  return { id: saved.id, number: saved.number, kind: saved.kind, createdAt: saved.createdAt.toISOString() };
}

/** The columns templateView reads, for the queries that feed it. */
export const TEMPLATE_COLUMNS = [
  "id",
  "name",
  "description",
  "prompt_text",
  "category",
  "is_system",
  "version",
  "created_at",
] as const;

export function templateView(
  row: Pick<Selectable<PromptTemplatesTable>, (typeof TEMPLATE_COLUMNS)[number]>,
): PromptTemplateView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    promptText: row.prompt_text,
    category: row.category,
    isSystem: row.is_system,
    version: row.version,
    createdAt: row.created_at.toISOString(),
  };
}
