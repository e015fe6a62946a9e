import type { ColumnType, Generated } from "kysely";
import type { NullableTimestamp, Timestamp } from "../../platform/database/column-types.ts";
import type { ObjectKind } from "./object-codec.ts";

/** The writing module's tables (seed 000), migrations 100-199. */

/**
 * The values the migrations' CHECK constraints allow, declared once: the row
 * types below and the API's enums (schemas.ts) are made from these lists.
 * The order is the order the API document lists them in.
 */
export const VERSION_KINDS = ["major", "minor", "ai_suggestion"] as const;
/** "keyframe" or "delta": the kind of the content object the version points at; "snapshot" only in the earlier form. */
export const VERSION_STORAGES = ["keyframe", "delta", "snapshot"] as const;
/** A suggestion version's state, and its AI interaction's status. */
export const SUGGESTION_STATES = ["pending", "accepted", "rejected"] as const;

export type VersionKind = (typeof VERSION_KINDS)[number];
export type VersionStorage = (typeof VERSION_STORAGES)[number];
export type SuggestionState = (typeof SUGGESTION_STATES)[number];

export interface DocumentsTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  title: string;
  description: string | null;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  is_archived: ColumnType<boolean, boolean | undefined, boolean>;
  current_version_id: string | null;
  current_version_number: ColumnType<number, number | undefined, number>;
  last_version_number: ColumnType<number, number | undefined, number>;
  content_key: string;
  content_size: ColumnType<number, number | undefined, number>;
  content_sha256: ColumnType<string, string | undefined, string>;
  /** Live versions in the history. */
  history_versions: ColumnType<number, number | undefined, number>;
  /** Bytes the history occupies in storage (its content objects, compressed). */
  history_stored_bytes: ColumnType<string | number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_accessed_at: Timestamp;
  archived_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

export interface DocumentVersionsTable {
  id: string;
  document_id: string;
  organization_id: string;
  version_number: number;
  kind: VersionKind;
  storage: VersionStorage;
  /** Earlier form only: the snapshot a legacy patch applies to. */
  base_version_id: string | null;
  /** Earlier form only: the version's own blob. Null once the version points at a content object. */
  blob_key: string | null;
  /** Bytes this version added to storage (0 when its content was already stored). */
  stored_size: number;
  content_size: number;
  content_sha256: string;
  change_description: string | null;
  created_by_user_id: string | null;
  created_by_session_id: string | null;
  previous_version_id: string | null;
  suggestion_state: SuggestionState | null;
  created_at: Timestamp;
  expires_at: NullableTimestamp;
  pruned_at: NullableTimestamp;
}

export interface PromptTemplatesTable {
  id: Generated<string>;
  name: string;
  description: string | null;
  prompt_text: string;
  category: string;
  is_system: ColumnType<boolean, boolean | undefined, boolean>;
  organization_id: string | null;
  created_by: string | null;
  version: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface AiInteractionsTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  document_id: string | null;
  prompt_template_id: string | null;
  custom_prompt: string | null;
  model: string;
  cache_hit: boolean;
  ai_response: string;
  suggestion_version_id: string | null;
  status: ColumnType<SuggestionState, SuggestionState | undefined, SuggestionState>;
  accepted_suggestions: ColumnType<number, number | undefined, number>;
  rejected_suggestions: ColumnType<number, number | undefined, number>;
  timestamp: Timestamp;
  decided_at: NullableTimestamp;
}

/** Full-text search over a document's title, description and current text (migration 110; see search-index.ts). */
export interface DocumentSearchTable {
  document_id: string;
  organization_id: string;
  search_text: string;
  text_sha256: string;
  search_vector: string;
  indexed_at: Timestamp;
}

/** Documents whose latest autosaves are not in document_search yet. */
export interface DocumentSearchPendingTable {
  document_id: string;
  dirty_since: Timestamp;
}

/**
 * A document's content, stored once per distinct SHA-256: a keyframe (the
 * whole content) or a delta against a base object, Brotli-compressed; small
 * deltas inline in `body`, the rest in the blob store under `blob_key`.
 * A version points at its object by (document_id, content_sha256).
 */
export interface DocumentObjectsTable {
  document_id: string;
  sha256: string;
  kind: ObjectKind;
  base_sha256: string | null;
  /** Deltas from this object down to its keyframe. */
  depth: number;
  /** Deltas since its run's anchor (0 for anchors and keyframes); see object-codec.ts. */
  run: number;
  content_size: number;
  stored_size: number;
  body: Buffer | null;
  blob_key: string | null;
  created_at: Timestamp;
}

/** The one row of the history migration's progress (history-migration.ts). */
export interface WritingHistoryMigrationTable {
  id: number;
  cursor_document_id: string | null;
  documents_migrated: ColumnType<number, number | undefined, number>;
  versions_migrated: ColumnType<number, number | undefined, number>;
  documents_failed: ColumnType<number, number | undefined, number>;
  started_at: Timestamp;
  finished_at: NullableTimestamp;
}

/** Blobs to delete once a moment has passed (transferred originals, superseded content). */
export interface WritingBlobCleanupTable {
  blob_key: string;
  delete_after: Timestamp;
}

declare module "../../platform/database/tables.ts" {
  interface Tables {
    documents: DocumentsTable;
    document_search: DocumentSearchTable;
    document_search_pending: DocumentSearchPendingTable;
    document_versions: DocumentVersionsTable;
    prompt_templates: PromptTemplatesTable;
    ai_interactions: AiInteractionsTable;
    writing_blob_cleanup: WritingBlobCleanupTable;
    document_objects: DocumentObjectsTable;
    writing_history_migration: WritingHistoryMigrationTable;
  }
}
