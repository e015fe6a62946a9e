import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { AiProviderError, createChatClient } from "./chat-client.ts";

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
    assert.deepEqual(result.usage?.promptTokens, 10);
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
  });

  it("reports provider errors and unreachable providers as AiProviderError", async () => {
    server.failNext(2, 503);
    await assert.rejects(client()!.complete({ messages: [{ role: "user", content: "x" }] }), (e: unknown) => {
      assert.ok(e instanceof AiProviderError);
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
