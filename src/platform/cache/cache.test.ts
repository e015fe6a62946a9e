import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { cacheContract } from "../../../test/contract/cache.contract.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";
import { aiResponseCacheKey, normalizeContent } from "./ai-response-key.ts";

cacheContract("memory", async () => new MemoryKvStore(`test:${randomUUID()}:`));

describe("AI response cache key", () => {
  const base = {
    organizationId: "org-a",
    content: "The  quick brown fox.\r\n",
    prompt: "template:improve-clarity@3",
    model: "gpt-4o-mini",
    parameters: { temperature: 0.2, max_tokens: 400 },
  };

  it("is the same for the same request, whatever the whitespace or parameter order", () => {
    const same = aiResponseCacheKey({
      ...base,
      content: "The quick brown fox.",
      parameters: { max_tokens: 400, temperature: 0.2 },
    });
    assert.equal(aiResponseCacheKey(base), same);
    assert.match(same, /^[0-9a-f]{64}$/);
  });

  it("differs across tenants, so one organization never gets another's answer", () => {
    assert.notEqual(aiResponseCacheKey(base), aiResponseCacheKey({ ...base, organizationId: "org-b" }));
  });

  it("differs when the content, prompt, model or parameters differ", () => {
    const key = aiResponseCacheKey(base);
    for (const change of [
      { content: "The quick brown dog." },
      { prompt: "template:improve-clarity@4" },
      { model: "gpt-4o" },
      { parameters: { temperature: 0.3, max_tokens: 400 } },
    ]) {
      assert.notEqual(aiResponseCacheKey({ ...base, ...change }), key, JSON.stringify(change));
    }
  });

  it("normalizes text without changing its words", () => {
    assert.equal(normalizeContent("  a\u0301  b \r\n c  "), "\u00e1 b\nc");
  });
});
