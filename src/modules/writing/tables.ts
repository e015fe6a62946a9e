import type { ColumnType, Generated } from "kysely";
import type { NullableTimestamp, Timestamp } from "../../platform/database/column-types.ts";

/** The writing module's tables (seed 000), migrations 100-199. */

export type VersionKind = "major" | "minor" | "ai_suggestion";
export type VersionStorage = "snapshot" | "delta";
export type SuggestionState = "pending" | "accepted" | "rejected";

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
  base_version_id: string | null;
  blob_key: string;
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
  }
}
