import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { type Kysely, sql } from "kysely";
import { estimateChatTokens } from "../../platform/ai/budgeted-completion.ts";
import type { ChatMessage, ChatResult } from "../../platform/ai/chat-client.ts";
import { AiNotConfiguredError, AiProviderBusyError, AiProviderError } from "../../platform/ai/errors.ts";
import type { Tables } from "../../platform/database/tables.ts";
import { transaction } from "../../platform/database/transaction.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { forgetChatCaches } from "./caches.ts";
import { recordMessage } from "./chat-changes.ts";
import { cacheOwner, getChat } from "./chats.ts";
import { promptWithin, titleFrom } from "./history.ts";
import { historyUpTo, MESSAGE_COLUMNS, messageView } from "./messages.ts";
import { RETRIEVAL_SHARE, retrieveFor } from "./retrieval.ts";
import type { ExchangeView, MessageView } from "./schemas.ts";

type Db = Kysely<Tables>;

/** How long a reply holds its chat without news; a live reply extends it, a crashed one lets go. */
const HOLD_SECONDS = 60;
const EXTEND_EVERY_MS = 20_000;

/** Where a reply goes as it is written: the stored user message, then the text in pieces. */
export interface ReplySink {
  onMessage?(message: MessageView): void;
  onChunk?(text: string): void;
  /** Aborted when the client goes away: the reply stops, and what was written is kept as partial. */
  signal?: AbortSignal;
}

/** An exchange, and the failure that cut its reply short, if one did (the reply is stored either way). */
export interface ReplyOutcome {
  exchange: ExchangeView;
  failure: unknown;
}

/** The checks a send can fail with a plain HTTP error, before anything is stored or streamed. */
export async function checkChatRequest(platform: Platform, principal: Principal, chatId: string) {
  const chat = await getChat(platform, principal, chatId);
  if (!platform.chat) throw errors.aiNotConfigured();
  return { chatId: chat.id, client: platform.chat, caches: cacheOwner(chat), principal };
}

/**
 * Seed 003's chat flow: the user's message is stored (with the chat held,
 * so a second message meanwhile is 409 chat_reply_in_progress), the AI
 * provider is asked with the chat's history trimmed to the token budget,
 * the reply streams to `sink` and is stored with its model and token
 * counts, and the chat is updated (a title from the first message, its
 * `updated_at`). A provider failure or a client gone mid-stream keeps the
 * user's message and stores the reply as partial (or failed, with no text),
 * with the reason; `regenerate` answers it again.
 */
export async function sendMessage(
  platform: Platform,
  checked: Awaited<ReturnType<typeof checkChatRequest>>,
  content: string,
  sink: ReplySink = {},
): Promise<ReplyOutcome> {
  const db = platform.database.db;
  const message = await transaction(db, async (trx) => {
    await hold(trx, checked.chatId);
    const row = await trx
      .insertInto("messages")
      .values({ chat_id: checked.chatId, role: "user", content })
      .returning(MESSAGE_COLUMNS)
      .executeTakeFirstOrThrow();
    await trx.updateTable("chats").set({ updated_at: sql`now()` }).where("id", "=", checked.chatId).execute();
    await recordMessage(platform, trx, checked.principal, messageView(row));
    return row;
  });
  await forgetChatCaches(platform, checked.caches);
  const view = messageView(message);
  sink.onMessage?.(view);
  const reply = await answer(platform, checked, message, sink);
  return { exchange: { message: view, reply: reply.view }, failure: reply.failure };
}

/** Answers the chat's last user message again: a new reply beside the earlier ones (which stay as they were). */
export async function regenerate(
  platform: Platform,
  checked: Awaited<ReturnType<typeof checkChatRequest>>,
  sink: ReplySink = {},
): Promise<ReplyOutcome> {
  const db = platform.database.db;
  const last = await transaction(db, async (trx) => {
    const row = await trx
      .selectFrom("messages")
      .select(MESSAGE_COLUMNS)
      .where("chat_id", "=", checked.chatId)
      .where("role", "=", "user")
      .orderBy("created_at", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    if (!row) throw errors.nothingToRegenerate(checked.chatId);
    await hold(trx, checked.chatId);
    return row;
  });
  const reply = await answer(platform, checked, last, sink);
  return { exchange: { message: null, reply: reply.view }, failure: reply.failure };
}

async function answer(
  platform: Platform,
  checked: Awaited<ReturnType<typeof checkChatRequest>>,
  question: { id: string; content: string; created_at: Date },
  sink: ReplySink,
): Promise<{ view: MessageView; failure: unknown }> {
  const db = platform.database.db;
  const { chatId, client } = checked;
  const extender = setInterval(() => {
    void extend(db, chatId).catch(() => {});
  }, EXTEND_EVERY_MS);
  try {
    const history = await historyUpTo(db, chatId, question);
    const budget = platform.config.chat.historyTokens;
    const chat = await db
      .selectFrom("chats")
      .select(["id", "retrieval"])
      .where("id", "=", chatId)
      .executeTakeFirstOrThrow();
    const retrieved = await retrieveFor(platform, checked.principal, chat, question.content, budget * RETRIEVAL_SHARE);
    const trimmed = promptWithin(history, budget - retrieved.tokens);
    // The excerpts follow the system prompt, before the conversation.
    const prompt = {
      messages: retrieved.message
        ? [trimmed.messages[0] as ChatMessage, retrieved.message, ...trimmed.messages.slice(1)]
        : trimmed.messages,
      tokens: trimmed.tokens + retrieved.tokens,
    };
    let text = "";
    let result: ChatResult | null = null;
    let failure: unknown = null;
    const reservation = platform.aiBudget
      ? await platform.aiBudget.acquire({
          model: client.model,
          estimatedTokens: estimateChatTokens({ messages: prompt.messages }),
          signal: sink.signal,
        })
      : null;
    try {
      const stream = client.stream({ messages: prompt.messages, signal: sink.signal });
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          result = next.value;
          break;
        }
        text += next.value;
        sink.onChunk?.(next.value);
      }
    } catch (error) {
      failure = error;
    }
    const promptTokens = result?.usage?.promptTokens ?? prompt.tokens;
    const completionTokens = result?.usage?.completionTokens ?? countTokens(text);
    if (reservation) await platform.aiBudget?.settle(reservation, promptTokens + completionTokens).catch(() => {});
    const status = result ? "complete" : text ? "partial" : "failed";
    const errorCode = result ? null : sink.signal?.aborted ? "client_disconnected" : failureCode(failure);
    const stored = await transaction(db, async (trx) => {
      // Deleted while its reply was written: the reply has nowhere to go (404, as any later request would hear).
      const live = await trx.selectFrom("chats").select("id").where("id", "=", chatId).forUpdate().executeTakeFirst();
      if (!live) throw errors.chatNotFound(chatId);
      const row = await trx
        .insertInto("messages")
        .values({
          chat_id: chatId,
          role: "assistant",
          content: result?.content ?? text,
          status,
          model: result?.model ?? client.model,
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          error_code: errorCode,
          reply_to: question.id,
          citations: JSON.stringify(retrieved.citations),
        })
        .returning(MESSAGE_COLUMNS)
        .executeTakeFirstOrThrow();
      // The first exchange names the chat, unless its owner named it.
      await trx
        .updateTable("chats")
        .set({
          updated_at: sql`now()`,
          title: sql`coalesce(title, ${titleFrom(history[0]?.content ?? question.content)})`,
        })
        .where("id", "=", chatId)
        .execute();
      await recordMessage(platform, trx, checked.principal, messageView(row));
      return row;
    });
    await forgetChatCaches(platform, checked.caches);
    return { view: messageView(stored), failure: sink.signal?.aborted ? null : failure };
  } finally {
    clearInterval(extender);
    await db.updateTable("chats").set({ replying_until: null }).where("id", "=", chatId).execute();
  }
}

/** Holds the chat for a reply, or answers 409 while another reply holds it. */
async function hold(trx: Db, chatId: string): Promise<void> {
  const held = await trx
    .updateTable("chats")
    .set({ replying_until: sql`now() + make_interval(secs => ${HOLD_SECONDS})` })
    .where("id", "=", chatId)
    .where((eb) => eb.or([eb("replying_until", "is", null), eb("replying_until", "<=", sql<Date>`now()`)]))
    .executeTakeFirst();
  if (Number(held.numUpdatedRows) === 0) throw errors.chatReplyInProgress(chatId);
}

async function extend(db: Db, chatId: string): Promise<void> {
  await db
    .updateTable("chats")
    .set({ replying_until: sql`now() + make_interval(secs => ${HOLD_SECONDS})` })
    .where("id", "=", chatId)
    .where("replying_until", "is not", null)
    .execute();
}

/** The error code a failed reply records, as the API would answer it. */
function failureCode(error: unknown): string {
  if (error instanceof AiNotConfiguredError) return "ai_provider_not_configured";
  if (error instanceof AiProviderBusyError) return "ai_provider_busy";
  if (error instanceof AiProviderError) return "ai_provider_unavailable";
  return "internal_error";
}
