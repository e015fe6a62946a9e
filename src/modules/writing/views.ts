import type { DocumentsTable, SuggestionState, VersionKind, VersionStorage } from "./tables.ts";

type DocumentRow = Pick<
  DocumentsTable,
  "title" | "description" | "user_id" | "anonymous_session_id" | "organization_id"
> & {
  id: string;
  tags: string[];
  is_archived: boolean;
  current_version_id: string | null;
  current_version_number: number;
  content_size: number;
  history_versions: number;
  history_stored_bytes: string | number;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date;
  archived_at: Date | null;
  deleted_at: Date | null;
};

export interface DocumentView {
  id: string;
  title: string;
  description: string | null;
  tags: string[];
  isArchived: boolean;
  archivedAt: string | null;
  currentVersion: { id: string | null; number: number };
  contentSize: number;
  history: { versions: number; storedBytes: number };
  owner: { kind: "user" | "anonymous" };
  organizationId: string;
  createdAt: string;
  updatedAt: string;
  lastAccessedAt: string;
  deletedAt: string | null;
}

export function documentView(row: DocumentRow): DocumentView {
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

export interface VersionView {
  id: string;
  number: number;
  kind: VersionKind;
  changeDescription: string | null;
  author: { userId: string | null; anonymous: boolean };
  previousVersionId: string | null;
  contentSize: number;
  storage: VersionStorage;
  storedSize: number;
  suggestionState: SuggestionState | null;
  createdAt: string;
  expiresAt: string | null;
}

export function versionView(row: {
  id: string;
  version_number: number;
  kind: VersionKind;
  change_description: string | null;
  created_by_user_id: string | null;
  created_by_session_id: string | null;
  previous_version_id: string | null;
  content_size: number;
  storage: VersionStorage;
  stored_size: number;
  suggestion_state: SuggestionState | null;
  created_at: Date;
  expires_at: Date | null;
}): VersionView {
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
