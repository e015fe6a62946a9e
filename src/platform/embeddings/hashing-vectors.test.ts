import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ComputePool } from "../compute/compute-pool.ts";
import { cosine } from "./embedder.ts";
import { HashingEmbedder } from "./hashing-embedder.ts";
import { HASHING_MODEL, hashingVector } from "./hashing-vectors.ts";

describe("hashing embedder (the offline default)", () => {
  const compute = new ComputePool({ maxThreads: 1 });
  const embedder = new HashingEmbedder(compute);
  after(() => compute.close());

  it("gives every text the same unit vector of its model's dimension, everywhere", async () => {
    const [a, b] = await embedder.embed(["A walk by the river at dawn.", "A walk by the river at dawn."]);
    assert.equal(embedder.model, HASHING_MODEL);
    assert.equal(a?.length, embedder.dimension);
    assert.deepEqual(a, b);
    const length = Math.sqrt((a as number[]).reduce((sum, v) => sum + v * v, 0));
    assert.ok(Math.abs(length - 1) < 1e-9);
  });

  it("places texts that share words and word forms near, and unrelated ones far", () => {
    const query = hashingVector("morning run in the park");
    const near = hashingVector("I went running in the park this morning, a long run.");
    const far = hashingVector("The quarterly tax filing deadline moved to Friday.");
    assert.ok(cosine(query, near) > 0.3, `near: ${cosine(query, near)}`);
    assert.ok(Math.abs(cosine(query, far)) < 0.15, `far: ${cosine(query, far)}`);
    const forms = cosine(hashingVector("running"), hashingVector("runs"));
    const other = cosine(hashingVector("running"), hashingVector("table"));
    assert.ok(forms > other + 0.1, `word forms share trigrams: ${forms} against ${other}`);
  });

  it("tolerates a typo, but not a different word", () => {
    const word = hashingVector("restaurant");
    assert.ok(cosine(word, hashingVector("restaurnat")) > 0.3);
    assert.ok(Math.abs(cosine(word, hashingVector("bicycle"))) < 0.15);
  });

  it("embeds a large text on a worker thread, to the same vector", async () => {
    const large = "A long entry about the river walk at dawn, and what the morning felt like. ".repeat(400);
    const before = compute.stats();
    const [vector] = await embedder.embed([large]);
    assert.equal(compute.stats().completed.pool, before.completed.pool + 1, "ran on the pool");
    assert.deepEqual(vector, hashingVector(large));
  });

  it("gives a text with no words (punctuation, or only stop words) no direction", () => {
    for (const text of ["", "?!... --", "the and of"]) {
      assert.ok(
        hashingVector(text).every((v) => v === 0),
        JSON.stringify(text),
      );
    }
  });
});
