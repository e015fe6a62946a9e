import { type Static, Type } from "typebox";
import { Label, Nullable, StrictObject, StringEnum, Uuid } from "../../platform/schemas.ts";
import { FILE_STATUSES, MESSAGE_ROLES, MESSAGE_STATUSES, RETRIEVAL_SCOPES } from "./tables.ts";

/**
 * The chat module's resources as the API shows them, declared once: the
 * routes answer with these, the OpenAPI document is made from them, and the
 * services' view types derive from them.
 */

/** A message a person writes: not blank, at most 32,000 characters. */
export const MessageContent = Type.String({ minLength: 1, maxLength: 32_000, pattern: "\\S" });
export const ChatTitle = Label(255);

const Retrieval = StringEnum(RETRIEVAL_SCOPES, {
  description:
    "What replies may draw on: `off`, the files attached to the chat (`attached`), or all of the caller's files (`all`).",
});
const FileIds = Type.Array(Uuid, {
  maxItems: 100,
  uniqueItems: true,
  description: "The caller's files attached to the chat (replaces the list).",
});

export const Chat = Type.Object({
  id: Uuid,
  title: Nullable(Type.String(), { description: "Set from the first exchange unless the owner gives one." }),
  retrieval: Retrieval,
  fileIds: Type.Array(Uuid, { description: "The files attached to the chat." }),
  replying: Type.Boolean({ description: "True while a reply is being written; a new message then answers 409." }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type ChatView = Static<typeof Chat>;

export const NewChat = StrictObject({
  title: Type.Optional(ChatTitle),
  retrieval: Type.Optional(Retrieval),
  fileIds: Type.Optional(FileIds),
});
export const ChatPatch = StrictObject({
  title: Type.Optional(ChatTitle),
  retrieval: Type.Optional(Retrieval),
  fileIds: Type.Optional(FileIds),
});

export const Message = Type.Object({
  id: Uuid,
  chatId: Uuid,
  role: StringEnum(MESSAGE_ROLES),
  content: Type.String(),
  status: StringEnum(MESSAGE_STATUSES, {
    description:
      "`complete`; `partial`: a reply cut short (the provider failed or the client went away mid-stream), its text " +
      "what was written by then; `failed`: a reply the provider never began.",
  }),
  model: Nullable(Type.String(), { description: "The model that wrote an assistant message." }),
  promptTokens: Nullable(Type.Integer()),
  completionTokens: Nullable(Type.Integer()),
  errorCode: Nullable(Type.String(), { description: "Why a reply is partial or failed." }),
  replyTo: Nullable(Uuid, { description: "The user message an assistant message answers." }),
  citations: Type.Array(
    Type.Object({
      n: Type.Integer({ description: "The number the reply cites it by: [1], [2], ..." }),
      fileId: Uuid,
      filename: Type.String(),
      chunkId: Uuid,
      chunkIndex: Type.Integer(),
      start: Type.Integer({ description: "Offset of the chunk in the file's extracted text." }),
      end: Type.Integer(),
    }),
    { description: "The file chunks a reply drew on (empty for user messages and replies without retrieval)." },
  ),
  createdAt: Type.String(),
});
export type MessageView = Static<typeof Message>;

export const NewMessage = StrictObject({
  content: MessageContent,
  stream: Type.Optional(
    Type.Boolean({ description: "true (the default): the reply as server-sent events; false: one JSON answer." }),
  ),
});
export const Regenerate = StrictObject({ stream: Type.Optional(Type.Boolean()) });

export const Exchange = Type.Object(
  { message: Nullable(Message), reply: Message },
  { description: "The user's message (null for a regeneration) and the reply stored for it." },
);
export type ExchangeView = Static<typeof Exchange>;

export const ChatFile = Type.Object({
  id: Uuid,
  filename: Type.String(),
  size: Type.Integer({ description: "Bytes." }),
  mimeType: Type.String({ description: "The type its content showed, whatever it was sent as." }),
  sha256: Type.String({
    description: "The content's SHA-256: an owner's second upload of the same bytes is this file.",
  }),
  status: StringEnum(FILE_STATUSES, {
    description: "`pending` (stored), `processing` (its text being read, chunked and embedded), `ready`, `failed`.",
  }),
  failureReason: Nullable(Type.String()),
  chunkCount: Type.Integer(),
  createdAt: Type.String(),
  processedAt: Nullable(Type.String()),
});
export type ChatFileView = Static<typeof ChatFile>;

export const UploadedFile = Type.Object({
  file: ChatFile,
  duplicate: Type.Boolean({ description: "True when the caller already had these bytes: the file is that one." }),
});
