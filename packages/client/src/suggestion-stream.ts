import { EventSourceParserStream } from "eventsource-parser/stream";
import type { Client } from "openapi-fetch";
import type { paths, RequestBody, Suggestion } from "./api-types.ts";
import { errorShape, StrataError } from "./errors.ts";

/** What a suggestion is asked with (a template or a prompt); the stream sets `stream` itself. */
export type SuggestionRequest = Omit<RequestBody<"/v1/documents/{documentId}/suggestions", "post">, "stream">;

/**
 * The events of a streamed suggestion, in order: `chunk`s of the reply as
 * the model writes it, then the stored `suggestion`. (The stream's third
 * event, `error`, is thrown as a StrataError rather than yielded.)
 */
export type SuggestionEvent = { event: "chunk"; data: { text: string } } | { event: "suggestion"; data: Suggestion };

export interface StreamOptions {
  /** Aborting stops the request; leaving the loop early does too. */
  signal?: AbortSignal;
}

/**
 * Asks for a suggestion with `stream: true` and reads the server-sent events
 * from the response body (with fetch, not EventSource: the request is a POST
 * and carries Authorization). Refusals before the stream opens (404, 429,
 * 503) and an `error` event inside it are thrown as StrataErrors; an `error`
 * event's status is the stream's own, 200. Events of other names are skipped,
 * so a server that adds some does not break older clients.
 */
export async function* streamSuggestion(
  api: Client<paths>,
  documentId: string,
  body: SuggestionRequest,
  options: StreamOptions = {},
): AsyncGenerator<SuggestionEvent, void, undefined> {
  const result = await api.POST("/v1/documents/{documentId}/suggestions", {
    params: { path: { documentId } },
    body: { ...body, stream: true },
    parseAs: "stream",
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const { response } = result;
  if (!response.ok) throw await StrataError.fromResponse(response, result.error);
  const meta = { status: response.status, requestId: response.headers.get("x-request-id") };
  if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
    await response.body?.cancel();
    throw new StrataError({
      ...meta,
      code: "unexpected_response",
      message: "the server did not answer an event stream",
    });
  }
  const reader = response.body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  try {
    while (true) {
      const { done, value: message } = await reader.read();
      if (done) break;
      if (message.event === "chunk") {
        yield { event: "chunk", data: JSON.parse(message.data) };
      } else if (message.event === "suggestion") {
        yield { event: "suggestion", data: JSON.parse(message.data) };
        return;
      } else if (message.event === "error") {
        const error = errorShape(JSON.parse(message.data));
        throw error
          ? new StrataError({ ...meta, ...error })
          : new StrataError({ ...meta, code: "unexpected_response", message: `an error event: ${message.data}` });
      }
    }
  } finally {
    // Leaving early (a break, a throw) stops the request rather than reading the rest.
    await reader.cancel().catch(() => {});
  }
  throw new StrataError({
    ...meta,
    code: "unexpected_response",
    message: "the event stream ended before its suggestion",
  });
}
