import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A loopback HTTP server that speaks the OpenAI chat-completions protocol
 * (JSON and server-sent-event streaming), for testing Strata's real client.
 * Its "model" is a plain text transformation: it upper-cases the first letter
 * of each sentence in the last user message and tidies spaces, so tests can
 * predict the reply; `answerWith` swaps in another "model" (one that answers
 * JSON, say). `failNext` makes the next requests answer an HTTP error;
 * `busyNext` makes them answer 429 with the given Retry-After headers, as a
 * provider's rate limit does. A streamed reply ends with a usage chunk when
 * the request asks for one (`stream_options.include_usage`).
 */
export async function startChatCompletionsServer() {
  const requests: { body: any; authorization: string | undefined }[] = [];
  let failures = 0;
  let failStatus = 500;
  let delayMs = 0;
  let chunkDelayMs = 0;
  let busy = 0;
  let busyHeaders: Record<string, string> = {};
  let answer: ((messages: { role: string; content: string }[]) => string) | null = null;

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
      res
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ error: { message: "not found" } }));
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString());
    requests.push({ body, authorization: req.headers.authorization });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (busy > 0) {
      busy--;
      res.writeHead(429, { "content-type": "application/json", ...busyHeaders });
      res.end(
        JSON.stringify({
          error: { message: "Rate limit reached for requests", type: "requests", code: "rate_limit_exceeded" },
        }),
      );
      return;
    }
    if (failures > 0) {
      failures--;
      res.writeHead(failStatus, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: "the model is overloaded", type: "server_error" } }));
      return;
    }
    const last = [...body.messages].reverse().find((m: { role: string }) => m.role === "user");
    const reply = answer ? answer(body.messages) : transform(String(last?.content ?? ""));
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream) {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      const pieces = reply.match(/.{1,16}/gs) ?? [""];
      for (const piece of pieces) {
        if (chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chunkDelayMs));
        if (res.destroyed) return;
        const chunk = {
          id,
          object: "chat.completion.chunk",
          created,
          model: body.model,
          choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
        };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      const end = {
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      };
      res.write(`data: ${JSON.stringify(end)}\n\n`);
      if (body.stream_options?.include_usage) {
        const usage = {
          id,
          object: "chat.completion.chunk",
          created,
          model: body.model,
          choices: [],
          usage: usageOf(reply),
        };
        res.write(`data: ${JSON.stringify(usage)}\n\n`);
      }
      res.write("data: [DONE]\n\n");
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        object: "chat.completion",
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }],
        usage: usageOf(reply),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    /** Replies with what `respond` makes of the request's messages instead of the default transformation (null: back to it). */
    answerWith(respond: ((messages: { role: string; content: string }[]) => string) | null) {
      answer = respond;
    },
    /** Streamed replies wait this long before each piece, so a client can leave halfway. */
    setChunkDelay(ms: number) {
      chunkDelayMs = ms;
    },
    /** Every later reply waits this long first, as a real model's would. */
    setDelay(ms: number) {
      delayMs = ms;
    },
    failNext(count = 1, status = 500) {
      failures = count;
      failStatus = status;
    },
    /** The next `count` requests answer 429 with these headers (e.g. `{ "retry-after": "1" }`). */
    busyNext(count: number, headers: Record<string, string> = {}) {
      busy = count;
      busyHeaders = headers;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The "model" counts 10 tokens in, and one per character out. */
function usageOf(reply: string) {
  return { prompt_tokens: 10, completion_tokens: reply.length, total_tokens: 10 + reply.length };
}

/** The document text is what follows the last "---" line of the prompt. */
function transform(prompt: string): string {
  const text = prompt.includes("\n---\n") ? (prompt.split("\n---\n").at(-1) as string) : prompt;
  return text
    .replace(/[ \t]+/g, " ")
    .replace(/(^|[.!?]\s+)([a-z])/g, (_m, lead: string, letter: string) => lead + letter.toUpperCase())
    .trim();
}
