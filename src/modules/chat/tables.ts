import type { ColumnType, Generated } from "kysely";
import type { NullableTimestamp, Timestamp } from "../../platform/database/column-types.ts";

/** The chat module's tables (seed 003), migrations 400-499. */

export const MESSAGE_ROLES = ["user", "assistant", "system"] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/**
 * How a message came to be: `complete`; `partial`, a reply cut short (the
 * provider failed or the client went away mid-stream: its text is what was
 * written by then); `failed`, a reply the provider never began.
 */
export const MESSAGE_STATUSES = ["complete", "partial", "failed"] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** What a chat's replies may draw on: nothing, the files attached to it, or all of the owner's files. */
export const RETRIEVAL_SCOPES = ["off", "attached", "all"] as const;
export type RetrievalScope = (typeof RETRIEVAL_SCOPES)[number];

/** A chunk a reply drew on, as its citation shows it. */
export interface Citation {
  /** The number the reply's text may cite it by ([1], [2], ...). */
  n: number;
  fileId: string;
  filename: string;
  chunkId: string;
  chunkIndex: number;
  /** Offsets of the chunk in the file's extracted text. */
  start: number;
  end: number;
}

export interface ChatsTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  title: string | null;
  retrieval: ColumnType<RetrievalScope, RetrievalScope | undefined, RetrievalScope>;
  /** While a reply is being written: until when the chat is held (a crashed writer's hold runs out). */
  replying_until: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface MessagesTable {
  id: Generated<string>;
  chat_id: string;
  role: MessageRole;
  content: string;
  status: ColumnType<MessageStatus, MessageStatus | undefined, MessageStatus>;
  /** The model that wrote an assistant message. */
  model: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  /** Why a reply is partial or failed (an error code, or client_disconnected). */
  error_code: string | null;
  /** The user message an assistant message answers. */
  reply_to: string | null;
  /** The file chunks a reply drew on. */
  citations: ColumnType<Citation[], string | undefined, string>;
  created_at: Timestamp;
}

/** Where a file is in its processing: stored, then its text extracted, chunked and embedded (or not, and why). */
export const FILE_STATUSES = ["pending", "processing", "ready", "failed"] as const;
export type FileStatus = (typeof FILE_STATUSES)[number];

export interface FilesTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  filename: string;
  /** The blob's key in the blob store. */
  file_path: string;
  file_size: ColumnType<string, number | string, number | string>;
  mime_type: string;
  content_sha256: string;
  status: ColumnType<FileStatus, FileStatus | undefined, FileStatus>;
  failure_reason: string | null;
  chunk_count: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  processed_at: NullableTimestamp;
}

export interface FileChunksTable {
  id: Generated<string>;
  file_id: string;
  chunk_index: number;
  content: string;
  /** Offsets of the chunk in the file's extracted text (UTF-16 code units), for citations. */
  start_offset: number;
  end_offset: number;
  /** Generated: the chunk's words, for full-text search. */
  content_vector: ColumnType<string, never, never>;
}

export interface ChatFilesTable {
  chat_id: string;
  file_id: string;
  attached_at: Timestamp;
}

declare module "../../platform/database/tables.ts" {
  interface Tables {
    chats: ChatsTable;
    messages: MessagesTable;
    files: FilesTable;
    file_chunks: FileChunksTable;
    chat_files: ChatFilesTable;
  }
}
