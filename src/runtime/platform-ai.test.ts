import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { startEmbeddingsServer } from "../../test/support/embeddings-server.ts";
import { completeWithinBudget } from "../platform/ai/budgeted-completion.ts";
import { budgetKey } from "../platform/ai/token-budget.ts";
import { HASHING_MODEL } from "../platform/embeddings/hashing-vectors.ts";

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

  it("embeds with the offline hashing embedder by default, and with the configured endpoint when there is one", async () => {
    const plain = await openTestPlatform({});
    try {
      assert.equal(plain.platform.embedder.model, HASHING_MODEL);
      const [vector] = await plain.platform.embedder.embed(["a walk by the river"]);
      assert.equal(vector?.length, plain.platform.embedder.dimension);
    } finally {
      await plain.dispose();
    }
    const embeddings = await startEmbeddingsServer();
    const remote = await openTestPlatform({ EMBEDDING_BASE_URL: embeddings.baseUrl, EMBEDDING_MODEL: "letters-8" });
    try {
      assert.equal(remote.platform.embedder.model, "letters-8");
      const [vector] = await remote.platform.embedder.embed(["abc"]);
      assert.equal(vector?.length, 8);
      assert.equal(embeddings.requests.at(-1)?.body.model, "letters-8");
      // Kept a day by text: asked again, the endpoint is not.
      const asked = embeddings.requests.length;
      assert.deepEqual(await remote.platform.embedder.embed(["abc"]), [vector]);
      assert.equal(embeddings.requests.length, asked);
    } finally {
      await remote.dispose();
      await embeddings.stop();
    }
  });
});
