import assert from "node:assert/strict";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../../test/support/embedded.ts";
import { eventually } from "../../../test/support/eventually.ts";
import { client } from "../../../test/support/http.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import { buildServer } from "../../http/server.ts";
import { createMigrator } from "../../runtime/migrations.ts";
import type { Platform } from "../../runtime/platform.ts";
import { chatModule } from "./index.ts";

const modules = [chatModule];

/** The server-sent events of a stream body, in order. */
function events(text: string): { event: string; data: any }[] {
  return text
    .split("\n\n")
    .filter((block) => block.startsWith("event: "))
    .map((block) => {
      const [head, data] = block.split("\n");
      return { event: (head as string).slice(7), data: JSON.parse((data as string).slice(6)) };
    });
}

describe("chat module (embedded, loopback AI provider)", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let dispose: () => Promise<void>;
  let platform: Platform;
  let app: App;
  let url: string;
  let call: ReturnType<typeof client>;
  let token: string;

  before(async () => {
    ai = await startChatCompletionsServer();
    // A small history budget, so trimming shows within a few messages.
    const opened = await openTestPlatform({
      AI_BASE_URL: ai.baseUrl,
      AI_MODEL: "test-model",
      CHAT_HISTORY_TOKENS: "80",
    });
    dispose = opened.dispose;
    platform = opened.platform;
    await createMigrator(platform.database, modules).up();
    app = await buildServer(platform, modules);
    await app.listen({ host: "127.0.0.1", port: 0 });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    call = client(app);
    ({ token } = await registerUser(call, "Chatter"));
  });
  after(async () => {
    await app?.close();
    await dispose?.();
    await ai?.stop();
  });

  const newChat = async (as = token, title?: string) => {
    const res = await call("POST", "/v1/chats", { token: as, body: title ? { title } : {} });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const send = (chatId: string, content: string, as = token) =>
    call("POST", `/v1/chats/${chatId}/messages`, { token: as, body: { content, stream: false } });

  /** Sends a message whose reply streams (slowly, with the provider's chunk delay set); once the chat is held, the response. */
  const slowReply = async (chatId: string, content: string) => {
    const streaming = fetch(`${url}/v1/chats/${chatId}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ content }),
    });
    await eventually(
      async () => (await call("GET", `/v1/chats/${chatId}`, { token })).body.replying,
      (replying) => replying === true,
      10_000,
    );
    return { streaming };
  };

  it("stores the message and the reply with its model and tokens, titles the chat, and trims history to the budget", async () => {
    const chatId = await newChat();
    const first = await send(chatId, "what is a kayak? i want to paddle on the fjord this summer.");
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.message.role, "user");
    assert.equal(first.body.reply.role, "assistant");
    assert.equal(first.body.reply.status, "complete");
    assert.equal(first.body.reply.content, "What is a kayak? I want to paddle on the fjord this summer.");
    assert.equal(first.body.reply.model, "test-model");
    assert.ok(first.body.reply.promptTokens > 0 && first.body.reply.completionTokens > 0);
    assert.equal(first.body.reply.replyTo, first.body.message.id);
    const chat = await call("GET", `/v1/chats/${chatId}`, { token });
    assert.equal(chat.body.title, "what is a kayak? i want to paddle on the fjord this summer.");
    assert.equal(chat.body.replying, false);

    for (const text of ["second question about paddles", "third question about dry suits and cold water"]) {
      assert.equal((await send(chatId, text)).status, 201);
    }
    // The budget (80 tokens) keeps the newest messages: the first question is no longer sent.
    const prompt = ai.requests.at(-1)?.body.messages as { role: string; content: string }[];
    assert.equal(prompt[0]?.role, "system");
    assert.equal(prompt.at(-1)?.content, "third question about dry suits and cold water");
    assert.ok(!prompt.some((m) => m.content.includes("kayak")), JSON.stringify(prompt));
    assert.equal((await call("GET", `/v1/chats/${chatId}`, { token })).body.title, chat.body.title, "titled once");

    // Messages page backwards from the newest.
    const page = await call("GET", `/v1/chats/${chatId}/messages?limit=4`, { token });
    assert.deepEqual(
      page.body.items.map((m: { role: string }) => m.role),
      ["assistant", "user", "assistant", "user"],
    );
    assert.equal(page.body.items[1].content, "third question about dry suits and cold water");
    const older = await call("GET", `/v1/chats/${chatId}/messages?limit=4&cursor=${page.body.nextCursor}`, { token });
    assert.deepEqual(
      older.body.items.map((m: { content: string }) => m.content.toLowerCase()),
      [
        "what is a kayak? i want to paddle on the fjord this summer.",
        "what is a kayak? i want to paddle on the fjord this summer.",
      ],
    );
    assert.equal(older.body.nextCursor, null);
  });

  it("streams a reply over HTTP; a client that leaves halfway leaves the message and a partial reply, which regenerates", async () => {
    const chatId = await newChat();
    ai.setChunkDelay(80);
    const content = "tell me a long story about the sea and the boats and the harbour at night, with every detail.";
    try {
      // A real connection, closed by the client after two pieces of the reply (as a browser tab closing does).
      const text = await new Promise<string>((resolve, reject) => {
        const req = request(`${url}/v1/chats/${chatId}/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        });
        req.on("error", () => {});
        req.on("response", (res) => {
          assert.equal(res.statusCode, 200);
          assert.match(String(res.headers["content-type"]), /text\/event-stream/);
          let received = "";
          res.on("data", (piece: Buffer) => {
            received += piece.toString();
            if (events(received).filter((e) => e.event === "chunk").length >= 2) {
              req.destroy();
              resolve(received);
            }
          });
          res.on("end", () => reject(new Error(`the stream ended before the client left: ${received}`)));
        });
        req.end(JSON.stringify({ content }));
      });
      const seen = events(text);
      assert.equal(seen[0]?.event, "message");
      assert.equal(seen[0]?.data.content, content);

      // While that reply was being written, another message would have been refused; now it ends as partial.
      const stored = await eventually(
        async () => (await call("GET", `/v1/chats/${chatId}/messages`, { token })).body.items,
        (items: { role: string }[]) => items.some((m) => m.role === "assistant"),
        15_000,
      );
      const partial = stored.find((m: { role: string }) => m.role === "assistant") as unknown as {
        status: string;
        errorCode: string;
        content: string;
      };
      assert.equal(partial.status, "partial");
      assert.equal(partial.errorCode, "client_disconnected");
      const full = "Tell me a long story about the sea and the boats and the harbour at night, with every detail.";
      assert.ok(partial.content.length > 0 && partial.content.length < full.length, partial.content);
      assert.ok(full.startsWith(partial.content), partial.content);
      assert.equal(stored.filter((m: { role: string }) => m.role === "user").length, 1, "the message is kept");
    } finally {
      ai.setChunkDelay(0);
    }
    const again = await call("POST", `/v1/chats/${chatId}/regenerate`, { token, body: { stream: false } });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.message, null);
    assert.equal(again.body.reply.status, "complete");
    assert.equal(again.body.reply.content[0], "T");
    // The regeneration answered the kept message, without the cut-short reply in its prompt.
    const prompt = ai.requests.at(-1)?.body.messages as { role: string; content: string }[];
    assert.deepEqual(
      prompt.map((m) => m.role),
      ["system", "user"],
    );
  });

  it("refuses a second message while a reply is streaming (409), and says so in the stream's place", async () => {
    const chatId = await newChat();
    ai.setChunkDelay(60);
    try {
      const { streaming } = await slowReply(chatId, "a question that takes a while to answer, word by word by word.");
      const second = await send(chatId, "and another thing");
      assert.equal(second.status, 409);
      assert.equal(second.body.error.code, "chat_reply_in_progress");
      const streamedSecond = await fetch(`${url}/v1/chats/${chatId}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ content: "and a streamed other thing" }),
      });
      assert.equal(streamedSecond.status, 409);
      const body = await (await streaming).text();
      const last = events(body).at(-1);
      assert.equal(last?.event, "reply");
      assert.equal(last?.data.status, "complete");
    } finally {
      ai.setChunkDelay(0);
    }
    const messages = (await call("GET", `/v1/chats/${chatId}/messages`, { token })).body.items;
    assert.equal(messages.length, 2, "the refused messages were not stored");
  });

  it("ends a streamed reply with chat_not_found when its chat is deleted meanwhile, leaving nothing behind", async () => {
    const chatId = await newChat();
    ai.setChunkDelay(60);
    try {
      const { streaming } = await slowReply(
        chatId,
        "a question whose answer takes a while, word after word after word.",
      );
      assert.equal((await call("DELETE", `/v1/chats/${chatId}`, { token })).status, 204);
      const last = events(await (await streaming).text()).at(-1);
      assert.equal(last?.event, "error");
      assert.equal(last?.data.error.code, "chat_not_found");
    } finally {
      ai.setChunkDelay(0);
    }
    const left = await platform.database.db.selectFrom("messages").select("id").where("chat_id", "=", chatId).execute();
    assert.deepEqual(left, []);
  });

  it("keeps the message and records a failed reply when the provider fails; regenerate answers it", async () => {
    const chatId = await newChat();
    ai.failNext(5, 503);
    const res = await send(chatId, "is anyone there?");
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "ai_provider_unavailable");
    assert.equal(res.body.error.details.reply.status, "failed");
    assert.equal(res.body.error.details.reply.errorCode, "ai_provider_unavailable");
    ai.failNext(0);
    const again = await call("POST", `/v1/chats/${chatId}/regenerate`, { token, body: { stream: false } });
    assert.equal(again.status, 201);
    assert.equal(again.body.reply.content, "Is anyone there?");
    const messages = (await call("GET", `/v1/chats/${chatId}/messages`, { token })).body.items;
    assert.deepEqual(
      messages.map((m: { role: string; status: string }) => `${m.role}:${m.status}`),
      ["assistant:complete", "assistant:failed", "user:complete"],
    );
  });

  it("lists chats by last activity with cursors, renames and deletes them, and hides other callers' chats", async () => {
    const { token: own } = await registerUser(call, "Lister");
    const a = await newChat(own, "First");
    const b = await newChat(own, "Second");
    assert.equal((await send(a, "hello again", own)).status, 201);
    const page = await call("GET", "/v1/chats?limit=1", { token: own });
    assert.deepEqual(
      page.body.items.map((c: { id: string }) => c.id),
      [a],
    );
    const next = await call("GET", `/v1/chats?limit=1&cursor=${page.body.nextCursor}`, { token: own });
    assert.deepEqual(
      next.body.items.map((c: { id: string }) => c.id),
      [b],
    );
    const renamed = await call("PATCH", `/v1/chats/${b}`, { token: own, body: { title: "Renamed" } });
    assert.equal(renamed.body.title, "Renamed");
    for (const [method, path] of [
      ["GET", `/v1/chats/${a}`],
      ["GET", `/v1/chats/${a}/messages`],
      ["DELETE", `/v1/chats/${a}`],
    ] as const) {
      assert.equal((await call(method, path, { token })).status, 404, `${method} ${path}`);
    }
    assert.equal((await send(a, "not yours")).status, 404);
    assert.equal((await call("DELETE", `/v1/chats/${a}`, { token: own })).status, 204);
    assert.equal((await call("GET", `/v1/chats/${a}`, { token: own })).status, 404);
    const gone = await platform.database.db.selectFrom("messages").select("id").where("chat_id", "=", a).execute();
    assert.deepEqual(gone, [], "a chat's messages go with it");
  });

  it("keeps the first page of chats and of a chat's messages under seed 003's cache:* keys, dropped by every write", async () => {
    const { token: own, id: userId } = await registerUser(call, "Cached");
    const chatId = await newChat(own, "Cached chat");
    const listKey = `cache:chats:${userId}:all`;
    const messagesKey = `cache:messages:${chatId}:recent`;
    assert.equal((await call("GET", "/v1/chats", { token: own })).body.items.length, 1);
    assert.equal((await call("GET", `/v1/chats/${chatId}/messages`, { token: own })).body.items.length, 0);
    assert.ok(await platform.kv.get(listKey), "the chat list is cached");
    assert.ok(await platform.kv.get(messagesKey), "the recent messages are cached");
    // Another page size or a cursor is read from the database, and not cached.
    await call("GET", `/v1/chats/${chatId}/messages?limit=2`, { token: own });

    assert.equal((await send(chatId, "a new message", own)).status, 201);
    const messages = await call("GET", `/v1/chats/${chatId}/messages`, { token: own });
    assert.equal(messages.body.items.length, 2, "the send dropped the cached messages");
    const second = await newChat(own, "Second");
    const list = await call("GET", "/v1/chats", { token: own });
    assert.deepEqual(
      list.body.items.map((c: { id: string }) => c.id),
      [second, chatId],
      "a new chat dropped the cached list",
    );
    await call("PATCH", `/v1/chats/${chatId}`, { token: own, body: { title: "Renamed" } });
    assert.equal(await platform.kv.get(listKey), null, "a rename drops the list");
    await call("GET", "/v1/chats", { token: own });
    await call("DELETE", `/v1/chats/${chatId}`, { token: own });
    assert.equal(await platform.kv.get(listKey), null, "a delete drops the list");
    assert.equal(await platform.kv.get(messagesKey), null, "and the chat's messages");
  });

  it("lets an anonymous session chat, and moves its chats to the account it registers", async () => {
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const chatId = await newChat(anon);
    assert.equal((await send(chatId, "hi from a visitor", anon)).status, 201);
    const registered = await call("POST", "/v1/auth/register", {
      token: anon,
      body: { email: `visitor-${chatId.slice(0, 8)}@example.com`, password: "correct horse battery staple" },
    });
    assert.equal(registered.status, 201);
    const mine = await call("GET", `/v1/chats/${chatId}/messages`, { token: registered.body.accessToken });
    assert.equal(mine.status, 200);
    assert.equal(mine.body.items.length, 2);
  });

  it("puts message sends on the AI rate-limit tier (seed 003's rate_limit:{user_id}:{endpoint})", async () => {
    // An anonymous session's AI tier allows ten a minute.
    const anon = (await call("POST", "/v1/auth/anonymous", { ip: "203.0.113.9" })).body.accessToken;
    const chatId = await newChat(anon);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await call("POST", `/v1/chats/${chatId}/messages`, {
        token: anon,
        ip: "203.0.113.9",
        body: { content: `message ${i}`, stream: false },
      });
      statuses.push(res.status);
      if (res.status === 429) {
        assert.equal(res.body.error.code, "rate_limited");
        assert.equal(res.body.error.details.limitClass, "ai");
      }
    }
    assert.deepEqual(statuses, [...Array(10).fill(201), 429]);
    // Reading the chat is on the ordinary API tier, still open.
    assert.equal((await call("GET", `/v1/chats/${chatId}/messages`, { token: anon, ip: "203.0.113.9" })).status, 200);
  });

  it("refuses empty, blank and oversized messages with 400 naming the field", async () => {
    const chatId = await newChat();
    for (const content of ["", "   \n\t", "x".repeat(32_001)]) {
      const res = await send(chatId, content);
      assert.equal(res.status, 400, JSON.stringify(res.body).slice(0, 200));
      assert.equal(res.body.error.details.fields[0].field, "body.content");
    }
    assert.equal((await call("POST", "/v1/chats", { token, body: { title: " " } })).status, 400);
    assert.equal((await call("POST", `/v1/chats/${chatId}/regenerate`, { token, body: {} })).status, 409);
    assert.equal((await call("GET", "/v1/chats/not-a-uuid", { token })).status, 400);
  });
});
