import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { letterCounts, startEmbeddingsServer } from "../../../test/support/embeddings-server.ts";
import { AiProviderBusyError, AiProviderError } from "../ai/errors.ts";
import { normalize } from "./embedder.ts";
import { OpenAiEmbedder } from "./openai-embedder.ts";

describe("OpenAI-compatible embedder (against a loopback server)", () => {
  let server: Awaited<ReturnType<typeof startEmbeddingsServer>>;
  let embedder: OpenAiEmbedder;
  before(async () => {
    server = await startEmbeddingsServer();
    embedder = new OpenAiEmbedder({ baseUrl: server.baseUrl, apiKey: "sk-test", model: "letters-8", timeoutMs: 5_000 });
  });
  after(() => server.stop());

  it("sends the texts with its model and key, and returns unit vectors in the texts' order", async () => {
    assert.equal(embedder.dimension, null, "unknown until the first answer");
    const texts = ["abba", "cafe bead", "hedge"];
    const vectors = await embedder.embed(texts);
    const sent = server.requests.at(-1);
    assert.equal(sent?.body.model, "letters-8");
    assert.deepEqual(sent?.body.input, texts);
    assert.equal(sent?.authorization, "Bearer sk-test");
    assert.equal(embedder.dimension, 8);
    for (const [i, text] of texts.entries()) {
      const expected = normalize(letterCounts(text));
      assert.ok(
        vectors[i]?.every((v, j) => Math.abs(v - (expected[j] as number)) < 1e-9),
        `vector ${i} is ${text}'s`,
      );
    }
  });

  it("asks nothing for no texts", async () => {
    const before = server.requests.length;
    assert.deepEqual(await embedder.embed([]), []);
    assert.equal(server.requests.length, before);
  });

  it("reports a 429 as busy with the provider's Retry-After, and other failures as the provider's", async () => {
    server.busyNext(1, { "retry-after": "7" });
    await assert.rejects(
      embedder.embed(["a"]),
      (error) => error instanceof AiProviderBusyError && error.retryAfterMs === 7_000,
    );
    server.failNext(1);
    await assert.rejects(
      embedder.embed(["a"]),
      (error) => error instanceof AiProviderError && !(error instanceof AiProviderBusyError) && error.status === 500,
    );
  });

  it("refuses vectors of another dimension than the model gave before", async () => {
    server.dimensionNext(1);
    await assert.rejects(
      embedder.embed(["abc"]),
      (error) => error instanceof AiProviderError && /9-dimension/.test(error.message),
    );
    assert.equal((await embedder.embed(["abc"]))[0]?.length, 8);
  });
});
