import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { openModuleHarness } from "../../../test/support/module-harness.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import { writingModule } from "../writing/index.ts";
import { journalModule } from "./index.ts";
import { parseReading } from "./llm-sentiment.ts";

const modules = [writingModule, journalModule];

describe("a language model's sentiment reading", () => {
  it("takes the JSON object out of prose or a code fence, clamps numbers, and refuses anything else", () => {
    const reading = parseReading(
      "m",
      'Sure! ```json\n{"label": "Negative", "score": -1.7, "confidence": 0.8, "emotions": {"fear": 0.9, "joy": "x"}}\n```',
    );
    assert.deepEqual(reading, {
      model: "m",
      label: "negative",
      score: -1,
      confidence: 0.8,
      emotions: { joy: 0, sadness: 0, anger: 0, fear: 0.9, surprise: 0, calm: 0 },
    });
    assert.equal(parseReading("m", '{"label": "ecstatic", "score": 1, "confidence": 1}'), null);
    assert.equal(parseReading("m", '{"label": "neutral", "score": "?", "confidence": 1}'), null);
    assert.equal(parseReading("m", "I cannot rate this."), null);
  });
});

describe("journal analysis with a configured language model (loopback chat-completions server)", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let harness: Awaited<ReturnType<typeof openModuleHarness>>;
  let call: Awaited<ReturnType<typeof openModuleHarness>>["call"];
  let token: string;

  before(async () => {
    ai = await startChatCompletionsServer();
    // A "model" that reads the entry's last sentence's tone from one word, and answers as models do: in a fence.
    ai.answerWith((messages) => {
      const entry = messages.at(-1)?.content ?? "";
      const positive = /wonderful/i.test(entry);
      return `\`\`\`json\n${JSON.stringify({
        label: positive ? "positive" : "negative",
        score: positive ? 0.9 : -0.6,
        confidence: 0.75,
        emotions: positive ? { joy: 0.8, calm: 0.4 } : { sadness: 0.7 },
      })}\n\`\`\``;
    });
    harness = await openModuleHarness(modules, { AI_BASE_URL: ai.baseUrl, AI_MODEL: "test-model" });
    ({ call } = harness);
    ({ token } = await registerUser(call, "Reader"));
  });
  after(async () => {
    await harness?.close();
    await ai?.stop();
  });

  const analyzed = (id: string, rows: number) =>
    eventually(
      async () => (await call("GET", `/v1/journal/entries/${id}`, { token })).body,
      (entry) => entry.sentiment.length === rows && entry.sentiment.every((s: { stale: boolean }) => !s.stale),
      30_000,
    );

  it("adds the model's reading as a second row beside VADER's, and reports it in the task's results", async () => {
    const res = await call("POST", "/v1/journal/entries", {
      token,
      body: { content: "A wonderful, quiet morning by the lake." },
    });
    assert.equal(res.status, 201);
    const entry = await analyzed(res.body.id, 2);
    const byModel = Object.fromEntries(entry.sentiment.map((s: { model: string }) => [s.model, s]));
    assert.equal(byModel["vader-lexicon-1.1.3"].label, "positive");
    assert.equal(byModel["test-model"].label, "positive");
    assert.equal(byModel["test-model"].confidence, 0.75);
    assert.equal(byModel["test-model"].emotions.joy, 0.8);
    const task = await call("GET", `/v1/journal/tasks/${res.body.analysisTaskId}`, { token });
    assert.deepEqual(task.body.result.secondOpinion, {
      model: "test-model",
      label: "positive",
      confidence: 0.75,
      score: 0.9,
    });
    // The same text again reads the model's answer from the cache: no second request.
    const asked = ai.requests.length;
    const again = await call("POST", "/v1/journal/entries", {
      token,
      body: { content: "A wonderful, quiet morning by the lake." },
    });
    await analyzed(again.body.id, 2);
    assert.equal(ai.requests.length, asked);
  });

  it("keeps VADER's analysis when the model fails, and replaces the model's row after an edit", async () => {
    const res = await call("POST", "/v1/journal/entries", {
      token,
      body: { content: "A wonderful day at the coast." },
    });
    await analyzed(res.body.id, 2);
    ai.failNext(10, 503);
    const edited = await call("PATCH", `/v1/journal/entries/${res.body.id}`, {
      token,
      body: { content: "Everything went wrong at the coast and I felt awful." },
    });
    assert.equal(edited.status, 200);
    const task = await eventually(
      async () => (await call("GET", `/v1/journal/tasks/${edited.body.analysisTaskId}`, { token })).body,
      (t) => t.status === "succeeded",
      30_000,
    );
    assert.equal(task.result.secondOpinion, null, "the analysis does not wait on a model that fails");
    const entry = (await call("GET", `/v1/journal/entries/${res.body.id}`, { token })).body;
    const vader = entry.sentiment.find((s: { model: string }) => s.model === "vader-lexicon-1.1.3");
    const model = entry.sentiment.find((s: { model: string }) => s.model === "test-model");
    assert.equal(vader.label, "negative");
    assert.equal(vader.stale, false);
    assert.equal(model.stale, true, "the model's reading of the old text is marked stale, not passed off as current");
    ai.failNext(0);
    const again = await call("PATCH", `/v1/journal/entries/${res.body.id}`, {
      token,
      body: { content: "Everything went wrong at the coast, and I felt awful about it." },
    });
    assert.equal(again.status, 200);
    const fresh = await analyzed(res.body.id, 2);
    assert.equal(fresh.sentiment.find((s: { model: string }) => s.model === "test-model").label, "negative");
  });
});
