import type { ChatMessage } from "../../platform/ai/chat-client.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { attachedFiles } from "./chats.ts";
import { fileChunkSearchWithin } from "./file-sources.ts";
import { messageTokens } from "./history.ts";
import type { Citation, RetrievalScope } from "./tables.ts";

/** Chunks a reply may draw on at most (the best of hybrid search over the files in scope). */
const RETRIEVED_CHUNKS = 5;
/** The share of the prompt's token budget retrieved excerpts may take; the history keeps the rest. */
export const RETRIEVAL_SHARE = 0.4;

export interface Retrieved {
  /** The excerpts as a system message, or null when nothing was found (or nothing fits). */
  message: ChatMessage | null;
  tokens: number;
  citations: Citation[];
}

const NOTHING: Retrieved = { message: null, tokens: 0, citations: [] };

/**
 * The caller's file chunks a question may be answered from: hybrid search
 * (full text, file names, vectors) over the files in the chat's scope (its
 * attached files, or all of the caller's ready files), the best first, as
 * many as fit in `budget` tokens, numbered for citation. A search that
 * fails (an embedding provider down) leaves the reply without excerpts
 * rather than without an answer.
 */
export async function retrieveFor(
  platform: Platform,
  principal: Principal,
  chat: { id: string; retrieval: RetrievalScope },
  question: string,
  budget: number,
): Promise<Retrieved> {
  if (chat.retrieval === "off") return NOTHING;
  const fileIds =
    chat.retrieval === "attached" ? ((await attachedFiles(platform.database.db, [chat.id])).get(chat.id) ?? []) : null;
  if (fileIds && fileIds.length === 0) return NOTHING;
  let ids: string[];
  try {
    const found = await platform.search.searchWith(principal, question, [fileChunkSearchWithin(fileIds)], {
      limit: RETRIEVED_CHUNKS,
    });
    ids = found.items.map((item) => item.id);
  } catch (error) {
    platform.logger.warn({ err: error, chatId: chat.id }, "retrieval skipped: the search failed");
    return NOTHING;
  }
  if (ids.length === 0) return NOTHING;
  const rows = await platform.database.db
    .selectFrom("file_chunks as c")
    .innerJoin("files as f", "f.id", "c.file_id")
    .select(["c.id", "c.content", "c.chunk_index", "c.start_offset", "c.end_offset", "f.id as file_id", "f.filename"])
    .where("c.id", "in", ids)
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const citations: Citation[] = [];
  const parts: string[] = [];
  let tokens = messageTokens({ role: "system", content: INSTRUCTIONS });
  for (const id of ids) {
    const row = byId.get(id);
    if (!row) continue;
    const n = citations.length + 1;
    const part = `[${n}] ${row.filename}, part ${row.chunk_index + 1}:\n${row.content}`;
    const cost = messageTokens({ role: "system", content: part });
    if (tokens + cost > budget) break;
    tokens += cost;
    parts.push(part);
    citations.push({
      n,
      fileId: row.file_id,
      filename: row.filename,
      chunkId: row.id,
      chunkIndex: row.chunk_index,
      start: row.start_offset,
      end: row.end_offset,
    });
  }
  if (parts.length === 0) return NOTHING;
  return { message: { role: "system", content: `${INSTRUCTIONS}\n\n${parts.join("\n\n")}` }, tokens, citations };
}

const INSTRUCTIONS =
  "Excerpts from the user's own files follow. Where they help answer, use them and cite them by their number, " +
  "like [1]; do not cite excerpts you did not use, and say so when they do not hold the answer.";
