import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { completeWithinBudget } from "../platform/ai/budgeted-completion.ts";
import { budgetKey } from "../platform/ai/token-budget.ts";

describe("the platform's AI services", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  before(async () => {
    ai = await startChatCompletionsServer();
  });
  after(async () => {
    await ai.stop();
  });

  it("pairs the chat client with a budget keyed by the provider's host, kept in the platform's store", async () => {
    const opened = await openTestPlatform({
      AI_BASE_URL: ai.baseUrl,
      AI_MODEL: "test-model",
      // One token a second: what a call is charged stays visible for a while.
      AI_TOKENS_PER_MINUTE: "60",
      AI_MODEL_LIMITS: "big-model=1000000/1000",
    });
    try {
      const { chat, aiBudget, kv } = opened.platform;
      assert.ok(chat && aiBudget);
      const host = new URL(ai.baseUrl).host;
      assert.equal(aiBudget.provider, host);
      assert.deepEqual(aiBudget.limitsFor("test-model"), { tokensPerMinute: 60, requestsPerMinute: null });
      assert.deepEqual(aiBudget.limitsFor("big-model"), { tokensPerMinute: 1_000_000, requestsPerMinute: 1_000 });

      const result = await completeWithinBudget(
        { chat, budget: aiBudget },
        {
          messages: [{ role: "user", content: "budgeted." }],
          maxTokens: 100,
        },
      );
      assert.equal(result.content, "Budgeted.");
      const ttl = await kv.ttl(budgetKey(host, "test-model"));
      assert.ok(ttl > 10_000, `the call's 19 tokens were charged on the shared budget (${ttl} ms to refill)`);
    } finally {
      await opened.dispose();
    }
  });

  it("has neither without a provider", async () => {
    const opened = await openTestPlatform();
    try {
      assert.equal(opened.platform.chat, null);
      assert.equal(opened.platform.aiBudget, null);
    } finally {
      await opened.dispose();
    }
  });
});
