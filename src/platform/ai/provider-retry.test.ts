import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { TestClock } from "../../../test/support/clock.ts";
import { toAppError } from "../../http/error-handler.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";
import { completeWithinBudget, estimateChatTokens } from "./budgeted-completion.ts";
import { AiProviderBusyError, AiProviderError, type ChatClient, createChatClient } from "./chat-client.ts";
import { withProviderRetries } from "./provider-retry.ts";
import { AiBudget, budgetKey, providerOf } from "./token-budget.ts";

describe("calling the provider through its 429s", () => {
  let server: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let chat: ChatClient;
  before(async () => {
    server = await startChatCompletionsServer();
    chat = createChatClient({ baseUrl: server.baseUrl, apiKey: null, model: "test-model", timeoutMs: 5_000 })!;
  });
  after(async () => {
    await server.stop();
  });

  const messages = [{ role: "user" as const, content: "hello there." }];

  it("waits out 429s without counting them as failures", async () => {
    const before = server.requests.length;
    // Short waits, so the test is quick; the provider names them.
    server.busyNext(3, { "retry-after-ms": "5" });
    const attempts: number[] = [];
    const result = await withProviderRetries(
      (attempt) => {
        attempts.push(attempt);
        return chat.complete({ messages });
      },
      { failureRetries: 0, busyWaits: 3 },
    );
    assert.equal(result.content, "Hello there.");
    assert.deepEqual(attempts, [1, 2, 3, 4], "three 429s waited out, though no failure may be retried");
    assert.equal(server.requests.length, before + 4);
  });

  it("lets the 429 through once its waits are spent, and the HTTP layer answers 503 ai_provider_busy with the provider's Retry-After", async () => {
    server.busyNext(3, { "retry-after-ms": "5" });
    const refused = await withProviderRetries(() => chat.complete({ messages }), { busyWaits: 2 }).catch(
      (error: unknown) => error,
    );
    assert.ok(refused instanceof AiProviderBusyError, String(refused));
    assert.equal(refused.retryAfterMs, 5);
    server.busyNext(0);

    const answered = toAppError(new AiProviderBusyError(12_500, null), 1024);
    assert.equal(answered.code, "ai_provider_busy");
    assert.equal(answered.statusCode, 503);
    assert.equal(answered.retryAfterSeconds, 13);
  });

  it("lets at once through a 429 asking for longer than it will wait", async () => {
    const before = server.requests.length;
    server.busyNext(1, { "retry-after": "3600" });
    await assert.rejects(
      withProviderRetries(() => chat.complete({ messages }), { maxBusyWaitMs: 10_000 }),
      (e: unknown) => e instanceof AiProviderBusyError && e.retryAfterMs === 3_600_000,
    );
    assert.equal(server.requests.length, before + 1);
  });

  it("retries a failure that may pass, as often as allowed, and never a refusal of the request", async () => {
    server.failNext(1, 503);
    assert.equal(
      (await withProviderRetries(() => chat.complete({ messages }), { failureBackoffMs: 1 })).content,
      "Hello there.",
    );

    server.failNext(2, 502);
    await assert.rejects(
      withProviderRetries(() => chat.complete({ messages }), { failureRetries: 1, failureBackoffMs: 1 }),
      (e: unknown) => e instanceof AiProviderError && e.status === 502,
    );

    const before = server.requests.length;
    server.failNext(1, 400);
    await assert.rejects(
      withProviderRetries(() => chat.complete({ messages }), { failureRetries: 3, failureBackoffMs: 1 }),
      (e: unknown) => e instanceof AiProviderError && e.status === 400,
    );
    assert.equal(server.requests.length, before + 1, "a 400 is not tried again");
  });

  it("stops waiting for a Retry-After the moment the signal aborts", async () => {
    server.busyNext(1, { "retry-after": "30" });
    const controller = new AbortController();
    const reason = new Error("shutting down");
    const call = withProviderRetries(
      async (attempt) => {
        const result = chat.complete({ messages });
        // Abort once the first 429 has arrived and the wait has begun.
        if (attempt === 1) void result.catch(() => setImmediate(() => controller.abort(reason)));
        return result;
      },
      { signal: controller.signal },
    );
    await assert.rejects(call, (e: unknown) => e === reason);
    server.busyNext(0);
  });

  describe("within the shared budget", () => {
    it("acquires before each attempt and settles with the usage the provider reports", async () => {
      // A clock that stands still, so what is charged can be read off exactly.
      const clock = new TestClock();
      const kv = new MemoryKvStore("budget:", clock);
      const provider = providerOf(server.baseUrl);
      const budget = new AiBudget(kv, provider, { tokensPerMinute: 100_000, requestsPerMinute: 100, models: {} });
      const request = { messages, maxTokens: 200 };
      const estimate = estimateChatTokens(request);
      assert.ok(estimate > 200, `the estimate covers the prompt and the reply (${estimate})`);

      server.busyNext(1, { "retry-after-ms": "5" });
      const result = await completeWithinBudget({ chat, budget }, request);
      assert.equal(result.content, "Hello there.");
      assert.deepEqual(result.usage, { promptTokens: 10, completionTokens: 12 }, "tokens in and out, for the caller");

      // Two attempts were charged a request each; the 429'd one keeps its
      // estimate, the answered one was settled to the 22 tokens it used.
      const bucket = await kv.hgetall(budgetKey(provider, "test-model"));
      const tokensCharged = ((Number(bucket.tokens) - clock.now()) * 100_000) / 60_000;
      const requestsCharged = ((Number(bucket.requests) - clock.now()) * 100) / 60_000;
      assert.equal(Math.round(tokensCharged), estimate + 22);
      assert.equal(Math.round(requestsCharged), 2);
      await kv.close();
    });
  });
});
