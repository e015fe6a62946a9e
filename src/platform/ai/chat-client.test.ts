import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { AiProviderBusyError, AiProviderError, createChatClient } from "./chat-client.ts";

describe("OpenAI-compatible chat client", () => {
  let server: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  before(async () => {
    server = await startChatCompletionsServer();
  });
  after(async () => {
    await server.stop();
  });

  const client = () =>
    createChatClient({ baseUrl: server.baseUrl, apiKey: "sk-test", model: "test-model", timeoutMs: 5_000 });

  it("is absent when no provider is configured", () => {
    assert.equal(createChatClient(null), null);
  });

  it("completes a chat, sending the model, messages and key", async () => {
    const result = await client()!.complete({
      messages: [
        { role: "system", content: "Improve the text." },
        { role: "user", content: "fix this.  and this" },
      ],
      temperature: 0.2,
    });
    assert.equal(result.content, "Fix this. And this");
    assert.equal(result.model, "test-model");
    assert.deepEqual(result.usage, { promptTokens: 10, completionTokens: result.content.length });
    const sent = server.requests.at(-1)!;
    assert.equal(sent.body.model, "test-model");
    assert.equal(sent.body.temperature, 0.2);
    assert.equal(sent.authorization, "Bearer sk-test");
  });

  it("streams a reply piece by piece", async () => {
    const stream = client()!.stream({
      messages: [{ role: "user", content: "one sentence. another sentence here, longer." }],
    });
    const pieces: string[] = [];
    let next = await stream.next();
    while (!next.done) {
      pieces.push(next.value);
      next = await stream.next();
    }
    assert.ok(pieces.length > 1, "more than one chunk arrived");
    assert.equal(pieces.join(""), "One sentence. Another sentence here, longer.");
    assert.equal(next.value.content, pieces.join(""));
    assert.deepEqual(
      next.value.usage,
      { promptTokens: 10, completionTokens: pieces.join("").length },
      "the usage the provider sends after the last piece",
    );
    assert.deepEqual(server.requests.at(-1)?.body.stream_options, { include_usage: true });
  });

  it("sends a request's own model and sampling settings", async () => {
    const result = await client()!.complete({
      messages: [{ role: "user", content: "x" }],
      model: "other-model",
      maxTokens: 50,
      topP: 0.9,
      frequencyPenalty: 0.5,
      presencePenalty: -0.5,
      stop: ["\n\n"],
    });
    assert.equal(result.model, "other-model");
    const { body } = server.requests.at(-1)!;
    assert.equal(body.model, "other-model");
    assert.equal(body.max_tokens, 50);
    assert.equal(body.top_p, 0.9);
    assert.equal(body.frequency_penalty, 0.5);
    assert.equal(body.presence_penalty, -0.5);
    assert.deepEqual(body.stop, ["\n\n"]);
  });

  it("answers a 429 as AiProviderBusyError with the provider's Retry-After, and does not retry by itself", async () => {
    const before = server.requests.length;
    server.busyNext(1, { "retry-after": "7" });
    await assert.rejects(client()!.complete({ messages: [{ role: "user", content: "x" }] }), (e: unknown) => {
      assert.ok(e instanceof AiProviderBusyError);
      assert.equal(e.status, 429);
      assert.equal(e.retryAfterMs, 7_000);
      return true;
    });
    assert.equal(server.requests.length, before + 1, "one request, no hidden retry");

    server.busyNext(1, { "retry-after-ms": "250", "retry-after": "1" });
    const stream = client()!.stream({ messages: [{ role: "user", content: "x" }] });
    await assert.rejects(stream.next(), (e: unknown) => e instanceof AiProviderBusyError && e.retryAfterMs === 250);

    server.busyNext(1);
    await assert.rejects(
      client()!.complete({ messages: [{ role: "user", content: "x" }] }),
      (e: unknown) => e instanceof AiProviderBusyError && e.retryAfterMs === null,
    );
    assert.equal((await client()!.complete({ messages: [{ role: "user", content: "ok." }] })).content, "Ok.");
  });

  it("rejects with the caller's reason when the call is aborted", async () => {
    const reason = new Error("lease lost");
    await assert.rejects(
      client()!.complete({ messages: [{ role: "user", content: "x" }], signal: AbortSignal.abort(reason) }),
      (e: unknown) => e === reason,
    );
  });

  it("rejects a stream aborted halfway with the caller's reason, never as a whole reply", async () => {
    server.setChunkDelay(30);
    try {
      const controller = new AbortController();
      const reason = new Error("the client left");
      const stream = client()!.stream({
        messages: [{ role: "user", content: "a reply long enough to come in several pieces, one after another." }],
        signal: controller.signal,
      });
      const first = await stream.next();
      assert.equal(first.done, false);
      controller.abort(reason);
      await assert.rejects(
        (async () => {
          for (let next = await stream.next(); !next.done; next = await stream.next()) {}
        })(),
        (e: unknown) => e === reason,
      );
    } finally {
      server.setChunkDelay(0);
    }
  });

  it("reports provider errors and unreachable providers as AiProviderError", async () => {
    server.failNext(1, 503);
    await assert.rejects(client()!.complete({ messages: [{ role: "user", content: "x" }] }), (e: unknown) => {
      assert.ok(e instanceof AiProviderError);
      assert.ok(!(e instanceof AiProviderBusyError));
      assert.equal(e.status, 503);
      return true;
    });
    const unreachable = createChatClient({
      baseUrl: "http://127.0.0.1:1/v1",
      apiKey: null,
      model: "m",
      timeoutMs: 2_000,
    });
    await assert.rejects(unreachable!.complete({ messages: [{ role: "user", content: "x" }] }), AiProviderError);
  });
});
