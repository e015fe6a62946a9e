import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { toAppError } from "../../http/error-handler.ts";
import { errorResponses, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { ListQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { createChat, deleteChat, getChatView, listChats, updateChat } from "./chats.ts";
import { listMessages } from "./messages.ts";
import { checkChatRequest, type ReplyOutcome, type ReplySink, regenerate, sendMessage } from "./reply.ts";
import { Chat, ChatPatch, Exchange, Message, NewChat, NewMessage, Regenerate } from "./schemas.ts";

const tags = ["chat"];
const ChatParams = Type.Object({ chatId: Uuid });
const REPLY_ERRORS = [
  ...WRITE_ROUTE,
  ...NEEDS_CALLER,
  "validation_failed",
  "chat_not_found",
  "chat_reply_in_progress",
  "ai_provider_not_configured",
  "ai_provider_unavailable",
  "ai_provider_busy",
] as const;
const STREAM_RESPONSE = {
  description:
    "With `stream: true` (the default): server-sent events. `message` (the stored user message; not for a " +
    "regeneration), `chunk` ({ text }) as the model writes, then `reply` (the stored reply) or `error` " +
    "({ error, reply }: the reply as stored, partial or failed).",
  content: { "text/event-stream": { schema: Type.String() } },
};

/** The chat module's HTTP API (seed 003), under /v1/chats. Anonymous sessions may use all of it. */
export function registerChatRoutes(app: App, platform: Platform) {
  app.post(
    "/chats",
    {
      schema: {
        tags,
        operationId: "createChat",
        summary: "Start a chat",
        security: BEARER,
        body: NewChat,
        response: {
          201: described(Chat, "The chat."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "file_not_found"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createChat(platform, requirePrincipal(request), request.body)),
  );

  app.get(
    "/chats",
    {
      schema: {
        tags,
        operationId: "listChats",
        summary: "The caller's chats, the most recently active first",
        security: BEARER,
        querystring: ListQuery,
        response: {
          200: described(pageOf(Chat), "A page of chats."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => listChats(platform, requirePrincipal(request), request.query),
  );

  app.get(
    "/chats/:chatId",
    {
      schema: {
        tags,
        operationId: "getChat",
        summary: "One of the caller's chats",
        security: BEARER,
        params: ChatParams,
        response: {
          200: described(Chat, "The chat."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "chat_not_found"),
        },
      },
    },
    async (request) => getChatView(platform, requirePrincipal(request), request.params.chatId),
  );

  app.patch(
    "/chats/:chatId",
    {
      schema: {
        tags,
        operationId: "updateChat",
        summary: "Change a chat's title, what its replies may draw on, or its attached files",
        security: BEARER,
        params: ChatParams,
        body: ChatPatch,
        response: {
          200: described(Chat, "The chat."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "chat_not_found", "file_not_found"),
        },
      },
    },
    async (request) => updateChat(platform, requirePrincipal(request), request.params.chatId, request.body),
  );

  app.delete(
    "/chats/:chatId",
    {
      schema: {
        tags,
        operationId: "deleteChat",
        summary: "Delete a chat with its messages",
        security: BEARER,
        params: ChatParams,
        response: {
          204: Type.Null({ description: "Deleted." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "chat_not_found"),
        },
      },
    },
    async (request, reply) => {
      await deleteChat(platform, requirePrincipal(request), request.params.chatId);
      return reply.status(204).send(null);
    },
  );

  app.get(
    "/chats/:chatId/messages",
    {
      schema: {
        tags,
        operationId: "listChatMessages",
        summary: "A chat's messages, the newest first (page backwards through the conversation)",
        security: BEARER,
        params: ChatParams,
        querystring: ListQuery,
        response: {
          200: described(pageOf(Message), "A page of messages."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "chat_not_found"),
        },
      },
    },
    async (request) => listMessages(platform, requirePrincipal(request), request.params.chatId, request.query),
  );

  app.post(
    "/chats/:chatId/messages",
    {
      config: { rateLimit: "ai" },
      schema: {
        tags,
        operationId: "sendChatMessage",
        summary: "Send a message; the reply streams back",
        description:
          "The message is stored, then the AI provider answers with the chat's history (trimmed to " +
          "CHAT_HISTORY_TOKENS). A second message while a reply is being written is 409 chat_reply_in_progress. " +
          "A provider failure or a client gone mid-stream keeps the message, and stores the reply as `partial` " +
          "(or `failed`) with the reason; regenerate answers it again.",
        security: BEARER,
        params: ChatParams,
        body: NewMessage,
        response: {
          200: STREAM_RESPONSE,
          201: described(Exchange, "With `stream: false`: the message and its reply."),
          ...errorResponses(...REPLY_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const checked = await checkChatRequest(platform, requirePrincipal(request), request.params.chatId);
      const { content, stream = true } = request.body;
      return respond(request, reply, platform, stream, (sink) => sendMessage(platform, checked, content, sink));
    },
  );

  app.post(
    "/chats/:chatId/regenerate",
    {
      config: { rateLimit: "ai" },
      schema: {
        tags,
        operationId: "regenerateChatReply",
        summary: "Answer the chat's last message again (after a failed or cut-short reply, or for another answer)",
        security: BEARER,
        params: ChatParams,
        body: Regenerate,
        response: {
          200: STREAM_RESPONSE,
          201: described(Exchange, "With `stream: false`: the new reply (`message` is null)."),
          ...errorResponses(...REPLY_ERRORS, "nothing_to_regenerate"),
        },
      },
    },
    async (request, reply) => {
      const checked = await checkChatRequest(platform, requirePrincipal(request), request.params.chatId);
      return respond(request, reply, platform, request.body.stream ?? true, (sink) =>
        regenerate(platform, checked, sink),
      );
    },
  );
}

/**
 * Runs a reply as JSON (201, or the failure's error with the stored reply in
 * its details) or as server-sent events. A client that closes the stream
 * aborts the provider call; what it had written is stored as partial.
 */
async function respond(
  request: FastifyRequest,
  reply: FastifyReply,
  platform: Platform,
  stream: boolean,
  run: (sink: ReplySink) => Promise<ReplyOutcome>,
) {
  const bodyLimit = platform.config.http.bodyLimitBytes;
  if (!stream) {
    const outcome = await run({});
    if (outcome.failure) {
      const error = toAppError(outcome.failure, bodyLimit);
      // The reply as stored (partial or failed) goes with the error, so the client can show it and regenerate.
      throw errors.withDetails(error, { reply: outcome.exchange.reply });
    }
    return reply.status(201).send(outcome.exchange);
  }
  const gone = new AbortController();
  reply.hijack();
  const raw = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) raw.setHeader(name, value);
  }
  raw.on("close", () => {
    if (!raw.writableFinished) gone.abort(new Error("the client closed the stream"));
  });
  const send = (event: string, data: unknown) => {
    if (!raw.destroyed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-request-id": request.id,
    });
  };
  try {
    const outcome = await run({
      signal: gone.signal,
      onMessage: (message) => {
        open();
        send("message", message);
      },
      onChunk: (text) => {
        open();
        send("chunk", { text });
      },
    });
    open();
    if (outcome.failure) {
      const error = toAppError(outcome.failure, bodyLimit);
      send("error", {
        error: { code: error.code, message: error.message, details: error.details },
        reply: outcome.exchange.reply,
      });
    } else {
      send("reply", outcome.exchange.reply);
    }
    raw.end();
  } catch (error) {
    // Refused before anything streamed (409 while another reply is written): a plain error response.
    const appError = toAppError(error, bodyLimit);
    if (!opened && !raw.destroyed) {
      raw.writeHead(appError.statusCode, {
        "content-type": "application/json; charset=utf-8",
        "x-request-id": request.id,
      });
      raw.end(JSON.stringify({ error: { code: appError.code, message: appError.message, details: appError.details } }));
      return;
    }
    if (appError.statusCode >= 500) request.log.error({ err: error }, "streamed chat reply failed");
    send("error", { error: { code: appError.code, message: appError.message, details: appError.details } });
    raw.end();
  }
}
