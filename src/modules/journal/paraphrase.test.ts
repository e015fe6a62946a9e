import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { eventually } from "../../../test/support/eventually.ts";
import { openModuleHarness } from "../../../test/support/module-harness.ts";
import { writeTinyEmbeddingModel } from "../../../test/support/tiny-embedding-model.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import type { Platform } from "../../runtime/platform.ts";
import { writingModule } from "../writing/index.ts";
import { journalModule } from "./index.ts";
import { TOPIC_SOURCE } from "./topic-embeddings.ts";

const modules = [writingModule, journalModule];

/*
 * A paraphrase shares no word with its query, so full text and trigram miss
 * it, and only the vector signal can find it. The model is a configured
 * local transformers.js model (EMBEDDING_MODEL_DIR), run through the same
 * pipeline as all-mpnet-base-v2 would be: tokenizer, ONNX session, mean
 * pooling over the attention mask, normalizing. Real sentence-transformer
 * weights are not part of the repository, so by default the model is one
 * the test writes, whose vocabulary knows these synonyms (and nothing
 * else); with STRATA_TEST_MODEL_DIR naming a directory that holds the
 * Xenova export of all-mpnet-base-v2, the same corpus and assertions run on
 * the seed's real model.
 */
const REAL_MODEL_DIR = process.env.STRATA_TEST_MODEL_DIR;
const hot = (i: number) => Array.from({ length: 8 }, (_, j) => (j === i ? 1 : 0));
const SYNONYMS: Record<string, number[]> = {
  anxious: hot(0),
  nervous: hot(0),
  worried: hot(0),
  exam: hot(1),
  test: hot(1),
  chemistry: hot(1),
  garden: hot(2),
  tomatoes: hot(2),
  basil: hot(2),
  recipe: hot(3),
  soup: hot(3),
  cooked: hot(3),
  run: hot(4),
  park: hot(4),
  lectures: hot(5),
  school: hot(5),
  learning: hot(5),
  courses: hot(5),
};

describe("journal search finds a paraphrase by meaning (configured local model)", () => {
  let dir: string;
  let harness: Awaited<ReturnType<typeof openModuleHarness>>;
  let platform: Platform;
  let call: Awaited<ReturnType<typeof openModuleHarness>>["call"];
  let model: string;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "strata-paraphrase-"));
    model = REAL_MODEL_DIR ? "all-mpnet-base-v2" : "tiny-synonyms";
    if (!REAL_MODEL_DIR) await writeTinyEmbeddingModel(dir, model, { words: SYNONYMS });
    harness = await openModuleHarness(modules, {
      EMBEDDING_MODEL_DIR: REAL_MODEL_DIR ?? dir,
      EMBEDDING_PASSAGE_MODEL: model,
      EMBEDDING_SHORT_MODEL: model,
    });
    ({ platform, call } = harness);
  });
  after(async () => {
    await harness?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("ranks the paraphrase first in hybrid search while full text finds nothing, and names the model", async () => {
    const { token } = await registerUser(call, "Paraphraser");
    const write = async (title: string, content: string) => {
      const res = await call("POST", "/v1/journal/entries", { token, body: { title, content } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const target = await write("Before chemistry", "Worried and nervous before my chemistry test tomorrow.");
    const others = [
      await write("Garden", "Planted tomatoes and basil in the garden."),
      await write("Dinner", "Cooked a new soup recipe tonight."),
      await write("Morning", "A slow run around the park."),
    ];
    await eventually(
      () => platform.database.db.selectFrom("embeddings").select("model").where("model", "=", model).execute(),
      (rows) => rows.length === 1 + others.length,
      60_000,
    );

    const lexical = await call("GET", "/v1/journal/search?q=anxious%20about%20the%20exam&mode=fulltext", { token });
    assert.equal(lexical.status, 200);
    assert.deepEqual(lexical.body.items, [], "no entry shares a word with the query");

    const hybrid = await call("GET", "/v1/journal/search?q=anxious%20about%20the%20exam", { token });
    assert.equal(hybrid.status, 200);
    assert.equal(hybrid.body.vector, "used");
    const [first] = hybrid.body.items;
    assert.equal(first?.id, target, JSON.stringify(hybrid.body.items));
    assert.equal(first.signals.fullText, null);
    assert.equal(first.signals.vector.rank, 1);
    assert.ok(first.signals.vector.score > 0.5, JSON.stringify(first.signals));

    const similar = await call("GET", `/v1/journal/entries/${target}/similar?minSimilarity=0.3`, { token });
    assert.equal(similar.status, 200);
    for (const item of similar.body.items) assert.equal(item.model, model);
  });

  it("links a keyword to the topic it means when no topic's name is near it, topics embedded by the short model", async () => {
    const { token } = await registerUser(call, "Student");
    // The system topics are embedded by the walk a source's first model makes.
    await eventually(
      () =>
        platform.database.db
          .selectFrom("embedding_models")
          .select(["model", "state"])
          .where("source", "=", TOPIC_SOURCE)
          .execute(),
      (rows) => rows.length === 1 && rows[0]?.state === "active" && rows[0]?.model === model,
      60_000,
    );
    const res = await call("POST", "/v1/journal/entries", {
      token,
      body: { content: "Lectures again tonight. So many lectures, and the lectures never end." },
    });
    assert.equal(res.status, 201);
    const analyzed = await eventually(
      async () => (await call("GET", `/v1/journal/entries/${res.body.id}`, { token })).body,
      (entry) => entry.sentiment.length > 0,
      30_000,
    );
    const names = analyzed.topics.map((t: { name: string }) => t.name);
    // "lectures" is nowhere near a topic by trigrams; the model puts it beside "study" ("school, learning, courses").
    assert.ok(names.includes("study"), JSON.stringify(analyzed.topics));
    assert.ok(!names.includes("lectures"), "no new topic where an existing one is meant");
    // A topic the writer creates is embedded too.
    const created = await call("POST", "/v1/journal/topics", { token, body: { name: "Garden club" } });
    assert.equal(created.status, 201);
    await eventually(
      () =>
        platform.database.db
          .selectFrom("embeddings")
          .select("model")
          .where("source", "=", TOPIC_SOURCE)
          .where("resource_id", "=", created.body.id)
          .executeTakeFirst(),
      (row) => row?.model === model,
      30_000,
    );
  });
});
