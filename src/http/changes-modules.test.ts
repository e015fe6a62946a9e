import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ChangesClient } from "../../test/support/changes-client.ts";
import { startChatCompletionsServer } from "../../test/support/chat-completions-server.ts";
import { openModuleHarness } from "../../test/support/module-harness.ts";
import { TEST_PASSWORD } from "../../test/support/writing-fixtures.ts";
import { chatModule } from "../modules/chat/index.ts";
import { generationModule } from "../modules/generation/index.ts";
import { journalModule } from "../modules/journal/index.ts";

type Harness = Awaited<ReturnType<typeof openModuleHarness>>;

/** What each module publishes to /v1/changes: chats' messages, contexts' status, journal analyses. */
describe("/v1/changes: the modules' topics (embedded)", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let h: Harness;
  let base: string;
  let owner: string;
  let other: string;
  const open: ChangesClient[] = [];
  const connect = async (token: string) => {
    const client = await ChangesClient.connect(base, token);
    open.push(client);
    return client;
  };

  before(async () => {
    ai = await startChatCompletionsServer();
    h = await openModuleHarness([generationModule, journalModule, chatModule], {
      AI_BASE_URL: ai.baseUrl,
      AI_MODEL: "test-model",
    });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const address = h.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const register = async () => {
      const res = await h.call("POST", "/v1/auth/register", {
        body: { email: `m-${randomUUID().slice(0, 8)}@example.com`, password: TEST_PASSWORD, name: "M" },
      });
      assert.equal(res.status, 201);
      return res.body.accessToken as string;
    };
    owner = await register();
    other = await register();
  });
  after(async () => {
    for (const client of open) client.close();
    await h?.close();
    await ai?.stop();
  });

  it("delivers a chat's messages to its owner, and refuses another user's subscription to it", async () => {
    const chat = await h.call("POST", "/v1/chats", { token: owner, body: { title: "Followed" } });
    const mine = await connect(owner);
    assert.deepEqual((await mine.subscribe([`chat:${chat.body.id}`])).topics, [`chat:${chat.body.id}`]);
    const theirs = await connect(other);
    const refused = await theirs.subscribe([`chat:${chat.body.id}`, "chat"]);
    assert.deepEqual(refused.refused, [{ topic: `chat:${chat.body.id}`, error: "chat_not_found" }]);
    const sent = await h.call("POST", `/v1/chats/${chat.body.id}/messages`, {
      token: owner,
      body: { content: "Hello there", stream: false },
    });
    assert.equal(sent.status, 201, JSON.stringify(sent.body));
    await mine.next((m) => m.type === "change" && m.data.message.role === "assistant");
    assert.deepEqual(
      mine.changes().map((c) => [c.event, c.data.message.role]),
      [
        ["message.created", "user"],
        ["message.created", "assistant"],
      ],
    );
    assert.equal(mine.changes()[0]?.data.message.content, "Hello there");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(theirs.changes().length, 0, "the other user follows their own chats only");
  });

  it("delivers a context's status as it moves, to its organization only", async () => {
    const mine = await connect(owner);
    await mine.subscribe(["context"]);
    const theirs = await connect(other);
    await theirs.subscribe(["context"]);
    const component = await h.call("POST", "/v1/generation/components", {
      token: owner,
      body: { name: "Plain", type: "transformer", config: { format: "markdown" } },
    });
    const pipeline = await h.call("POST", "/v1/generation/pipelines", {
      token: owner,
      body: { name: "Followed", components: [{ componentId: component.body.id }] },
    });
    const context = await h.call("POST", "/v1/generation/contexts", {
      token: owner,
      body: { type: "note", pipelineId: pipeline.body.id },
    });
    assert.equal(context.status, 201, JSON.stringify(context.body));
    await mine.next(
      (m) => m.type === "change" && m.subject === context.body.id && m.data.status === "completed",
      0,
      15_000,
    );
    assert.deepEqual(
      mine
        .changes()
        .filter((c) => c.subject === context.body.id)
        .map((c) => c.data.status),
      ["pending", "processing", "completed"],
    );
    assert.equal(theirs.changes().length, 0);
    const refused = await theirs.subscribe([`context:${context.body.id}`]);
    assert.deepEqual(refused.refused, [{ topic: `context:${context.body.id}`, error: "context_not_found" }]);
  });

  it("delivers a journal entry's analysis to its writer", async () => {
    const mine = await connect(owner);
    await mine.subscribe(["journal"]);
    const theirs = await connect(other);
    await theirs.subscribe(["journal"]);
    const entry = await h.call("POST", "/v1/journal/entries", {
      token: owner,
      body: { title: "A good day", content: "I feel wonderful and grateful after a long walk with friends." },
    });
    assert.equal(entry.status, 201);
    const analysis = await mine.next((m) => m.type === "change" && m.subject === entry.body.id, 0, 15_000);
    assert.equal(analysis.event, "analysis.completed");
    assert.equal(analysis.data.analysis.sentiment.label, "positive");
    assert.equal(theirs.changes().length, 0);
    const refused = await theirs.subscribe([`journal:${entry.body.id}`]);
    assert.deepEqual(refused.refused, [{ topic: `journal:${entry.body.id}`, error: "journal_entry_not_found" }]);
  });
});
