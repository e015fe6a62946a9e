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

export interface ChatsTable {
  id: Generated<string>;
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
  title: string | null;
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
  created_at: Timestamp;
}

declare module "../../platform/database/tables.ts" {
  interface Tables {
    chats: ChatsTable;
    messages: MessagesTable;
  }
}
