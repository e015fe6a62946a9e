import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { writeTinyEmbeddingModel } from "../../../test/support/tiny-embedding-model.ts";
import { loadConfig } from "../../config/config.ts";
import { openEmbedders } from "../../runtime/embedders.ts";
import { ComputePool } from "../compute/compute-pool.ts";
import { MemoryKvStore } from "../kv/memory-kv-store.ts";
import { cosine } from "./embedder.ts";
import { HASHING_MODEL } from "./hashing-vectors.ts";
import { LocalModelEmbedder, LocalModelError } from "./local-model-embedder.ts";

/** One-hot rows: words given the same row are synonyms to this model, others orthogonal. */
const row = (i: number) => Array.from({ length: 6 }, (_, j) => (j === i ? 1 : 0));
const WORDS = {
  nervous: row(0),
  anxious: row(0),
  exam: row(1),
  test: row(1),
  garden: row(2),
  tomatoes: row(3),
};

describe("local transformers.js embedder", () => {
  let dir: string;
  let pool: ComputePool;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strata-local-model-"));
    await writeTinyEmbeddingModel(dir, "tiny-synonyms", { words: WORDS });
    pool = new ComputePool({ maxThreads: 1 });
  });
  after(async () => {
    await pool?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("embeds on a compute thread with mean pooling and unit length, in order, batch or alone", async () => {
    const embedder = new LocalModelEmbedder(pool, dir, "tiny-synonyms");
    assert.equal(embedder.model, "tiny-synonyms");
    assert.equal(embedder.dimension, 6);
    const texts = [
      "I was nervous before the exam",
      "Anxious about tomorrow's test!",
      "Tomatoes in the garden",
      ...Array.from({ length: 9 }, (_, i) => `garden ${"tomatoes ".repeat(i)}`),
    ];
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, texts.length);
    for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
    assert.ok(cosine(vectors[0] as number[], vectors[1] as number[]) > 0.999, "a paraphrase in this model's words");
    assert.ok(cosine(vectors[0] as number[], vectors[2] as number[]) < 0.001);
    // Texts past the first forward-pass batch are padded differently; each vector is still its text's own.
    const [alone] = await embedder.embed([texts[11] as string]);
    assert.ok(cosine(alone as number[], vectors[11] as number[]) > 0.99999);
    assert.ok(pool.stats().completed.pool >= 2, "ran on the pool's thread, not the event loop");
  });

  it("gives a zero vector, not NaN, to a text with no word the model knows", async () => {
    const [vector] = await new LocalModelEmbedder(pool, dir, "tiny-synonyms").embed(["zzz qqq"]);
    assert.deepEqual(vector, [0, 0, 0, 0, 0, 0]);
  });

  it("names the model and what is missing when its directory is wrong", () => {
    assert.throws(
      () => new LocalModelEmbedder(pool, dir, "all-mpnet-base-v2"),
      (error: Error) => error instanceof LocalModelError && /all-mpnet-base-v2.*config\.json/.test(error.message),
    );
  });

  it("is what EMBEDDING_MODEL_DIR configures: passage and short models, older ones reachable by name", async () => {
    await writeTinyEmbeddingModel(dir, "tiny-short", { words: { garden: [1, 0], exam: [0, 1] } });
    const config = loadConfig({
      EMBEDDING_MODEL_DIR: dir,
      EMBEDDING_PASSAGE_MODEL: "tiny-synonyms",
      EMBEDDING_SHORT_MODEL: "tiny-short",
    });
    const registry = await openEmbedders(config, new MemoryKvStore(), pool);
    assert.equal(registry.forClass("passage").model, "tiny-synonyms");
    assert.equal(registry.forClass("short").model, "tiny-short");
    assert.equal(registry.forModel(HASHING_MODEL)?.model, HASHING_MODEL);
    assert.equal(registry.forModel("tiny-short")?.dimension, 2);
    assert.equal(registry.forModel("not-a-model-here"), null);
    const [vector] = await registry.forClass("short").embed(["the garden"]);
    assert.deepEqual(vector, [1, 0]);
    await assert.rejects(
      openEmbedders(loadConfig({ EMBEDDING_MODEL_DIR: dir }), new MemoryKvStore(), pool),
      /all-mpnet-base-v2/,
    );
  });
});
