import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { embeddedCount, openModuleHarness } from "../../../test/support/module-harness.ts";
import { uploadFile } from "../../../test/support/multipart.ts";
import { pdfWithPages } from "../../../test/support/pdf-fixtures.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import type { Platform } from "../../runtime/platform.ts";
import { FILE_CHUNK_SOURCE } from "./files.ts";
import { chatModule } from "./index.ts";

const modules = [chatModule];

describe("chat replies drawing on the caller's files (retrieval with citations)", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let harness: Awaited<ReturnType<typeof openModuleHarness>>;
  let platform: Platform;
  let app: App;
  let call: Awaited<ReturnType<typeof openModuleHarness>>["call"];
  let token: string;
  let guide: string;
  let recipes: string;

  before(async () => {
    ai = await startChatCompletionsServer();
    // A "model" that answers with the first excerpt it is given, citing it, or says it has none.
    ai.answerWith((messages) => {
      const excerpts = messages.find((m) => m.role === "system" && m.content.includes("[1]"));
      const first = excerpts?.content.split(/\n\n(?=\[\d+\] )/)[1];
      return first ? `From your files: ${first.split("\n").slice(1).join(" ")} [1]` : "I have nothing to go on.";
    });
    harness = await openModuleHarness(modules, { AI_BASE_URL: ai.baseUrl, AI_MODEL: "test-model" });
    ({ platform, app, call } = harness);
    ({ token } = await registerUser(call, "Reader"));
    const upload = async (filename: string, content: Uint8Array | string, contentType?: string) => {
      const res = await uploadFile(app, token, { filename, content, ...(contentType ? { contentType } : {}) });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.file.id as string;
    };
    guide = await upload(
      "island-guide.pdf",
      await pdfWithPages([
        ["Welcome to the islands. Bring warm clothes and a rain jacket."],
        ["The ferry to Lindholm leaves at 7:45 from pier three.", "Tickets are sold on board."],
      ]),
      "application/pdf",
    );
    recipes = await upload("recipes.md", "# Soup\n\nSimmer the leeks for twenty minutes before adding the potatoes.\n");
    for (const id of [guide, recipes]) {
      await eventually(
        async () => (await call("GET", `/v1/files/${id}`, { token })).body.status,
        (status) => status === "ready",
        30_000,
      );
    }
    const chunks = await platform.database.db.selectFrom("file_chunks").select("id").execute();
    await embeddedCount(platform, FILE_CHUNK_SOURCE, chunks.length);
  });
  after(async () => {
    await harness?.close();
    await ai?.stop();
  });

  const ask = async (chat: Record<string, unknown>, question: string) => {
    const made = await call("POST", "/v1/chats", { token, body: chat });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const res = await call("POST", `/v1/chats/${made.body.id}/messages`, {
      token,
      body: { content: question, stream: false },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { reply: res.body.reply, prompt: ai.requests.at(-1)?.body.messages as { role: string; content: string }[] };
  };

  it("answers from the uploaded PDF's chunk and cites that chunk with its offsets", async () => {
    const { reply, prompt } = await ask({ retrieval: "all" }, "When does the ferry to Lindholm leave?");
    assert.match(reply.content, /7:45 from pier three/);
    const [citation] = reply.citations;
    assert.equal(citation.n, 1);
    assert.equal(citation.fileId, guide);
    assert.equal(citation.filename, "island-guide.pdf");
    const chunk = await platform.database.db
      .selectFrom("file_chunks")
      .select(["chunk_index", "start_offset", "end_offset", "content"])
      .where("id", "=", citation.chunkId)
      .executeTakeFirstOrThrow();
    assert.match(chunk.content, /ferry to Lindholm/);
    assert.equal(citation.chunkIndex, chunk.chunk_index);
    assert.equal(citation.start, chunk.start_offset);
    assert.equal(citation.end, chunk.end_offset);
    // The excerpt went to the model after the system prompt, before the question.
    assert.equal(prompt[1]?.role, "system");
    assert.match(prompt[1]?.content ?? "", /\[1\] island-guide\.pdf, part 1:\n.*ferry to Lindholm/s);
    assert.equal(prompt.at(-1)?.content, "When does the ferry to Lindholm leave?");
    // The stored reply keeps its citations.
    const stored = await call("GET", `/v1/chats/${reply.chatId}/messages`, { token });
    assert.deepEqual(stored.body.items[0].citations, reply.citations);
  });

  it("draws only on the attached files when the chat says so, and on nothing when retrieval is off", async () => {
    const attached = await ask(
      { retrieval: "attached", fileIds: [recipes] },
      "When does the ferry to Lindholm leave? And how long do the leeks simmer?",
    );
    assert.ok(attached.reply.citations.length > 0);
    assert.ok(attached.reply.citations.every((c: { fileId: string }) => c.fileId === recipes));
    const off = await ask({}, "When does the ferry to Lindholm leave?");
    assert.deepEqual(off.reply.citations, []);
    assert.equal(off.reply.content, "I have nothing to go on.");
    assert.ok(!off.prompt.some((m) => m.content.includes("Lindholm leaves")));
    // Attaching another caller's file, or one that does not exist, is a 404 naming it.
    const { token: other } = await registerUser(call, "Other");
    const foreign = await call("POST", "/v1/chats", {
      token: other,
      body: { retrieval: "attached", fileIds: [guide] },
    });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, "file_not_found");
  });
});
