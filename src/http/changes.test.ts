import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { ChangesClient } from "../../test/support/changes-client.ts";
import { openModuleHarness } from "../../test/support/module-harness.ts";
import { TEST_PASSWORD } from "../../test/support/writing-fixtures.ts";
import { knowledgeModule } from "../modules/knowledge/index.ts";

type Harness = Awaited<ReturnType<typeof openModuleHarness>>;

const rule = (key: string) => ({
  key,
  category: "feed",
  title: `Rule ${key}`,
  description: "A rule written while someone follows the feed.",
  severity: "INFO",
  enforcement: "optional",
});

describe("/v1/changes (embedded)", () => {
  let h: Harness;
  let base: string;
  let owner: { token: string; refresh: string };
  let outsider: string;
  const open: ChangesClient[] = [];

  const connect = async (token?: string) => {
    const client = await ChangesClient.connect(base, token);
    open.push(client);
    return client;
  };

  before(async () => {
    // A short history, so a client that falls behind it can be shown.
    h = await openModuleHarness([knowledgeModule], { CHANGES_HISTORY: "5" });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const address = h.app.server.address();
    base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const register = async () => {
      const res = await h.call("POST", "/v1/auth/register", {
        body: { email: `c-${randomUUID().slice(0, 8)}@example.com`, password: TEST_PASSWORD, name: "C" },
      });
      assert.equal(res.status, 201);
      return { token: res.body.accessToken as string, refresh: res.body.refreshToken as string };
    };
    owner = await register();
    outsider = (await register()).token;
  });
  after(async () => {
    for (const client of open) client.close();
    await h?.close();
  });

  it("delivers each committed change once, in order, to those who may see it", async () => {
    const mine = await connect(owner.token);
    const theirs = await connect(outsider);
    const subscribed = await mine.subscribe(["knowledge"]);
    assert.deepEqual(subscribed.topics, ["knowledge"]);
    await theirs.subscribe(["knowledge"]);
    const made: string[] = [];
    for (const key of ["feed-1", "feed-2", "feed-3"]) {
      const res = await h.call("POST", "/v1/knowledge/rules", { token: owner.token, body: rule(key) });
      assert.equal(res.status, 201);
      made.push(res.body.id);
    }
    await mine.next((m) => m.type === "change" && m.subject === made[2]);
    const changes = mine.changes();
    assert.deepEqual(
      changes.map((c) => c.subject),
      made,
    );
    assert.deepEqual(
      changes.map((c) => c.event),
      ["rule.created", "rule.created", "rule.created"],
    );
    const positions = changes.map((c) => c.position as number);
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
      "in order",
    );
    assert.equal(new Set(positions).size, 3, "once each");
    assert.equal(changes[0]?.data.entry.key, "feed-1");
    // The outsider's organization is another: none of it reached them.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(theirs.changes().length, 0);
  });

  it("refuses at subscription a topic the caller may not follow", async () => {
    const made = await h.call("POST", "/v1/knowledge/rules", { token: owner.token, body: rule("feed-private") });
    const theirs = await connect(outsider);
    const answer = await theirs.subscribe([`knowledge:${made.body.id}`, "secrets", "knowledge"]);
    assert.deepEqual(answer.topics, ["knowledge"]);
    assert.deepEqual(answer.refused, [
      { topic: `knowledge:${made.body.id}`, error: "knowledge_entry_not_found" },
      { topic: "secrets", error: "unknown_topic" },
    ]);
    const mine = await connect(owner.token);
    assert.deepEqual((await mine.subscribe([`knowledge:${made.body.id}`])).topics, [`knowledge:${made.body.id}`]);
  });

  it("sends a reconnecting client what it missed, and tells one too far behind to reload", async () => {
    const first = await connect(owner.token);
    await first.subscribe(["knowledge"]);
    await h.call("POST", "/v1/knowledge/rules", { token: owner.token, body: rule("feed-seen") });
    const seen = await first.next((m) => m.type === "change");
    first.close();
    const missed: string[] = [];
    for (const key of ["feed-missed-1", "feed-missed-2"]) {
      missed.push((await h.call("POST", "/v1/knowledge/rules", { token: owner.token, body: rule(key) })).body.id);
    }
    const back = await connect(owner.token);
    await back.subscribe(["knowledge"], seen.position);
    await back.next((m) => m.type === "change" && m.subject === missed[1]);
    assert.deepEqual(
      back.changes().map((c) => c.subject),
      missed,
    );
    // The history keeps 5 changes: a client at position 1 is too far behind.
    for (let i = 0; i < 6; i++) {
      await h.call("POST", "/v1/knowledge/rules", { token: owner.token, body: rule(`feed-flood-${i}`) });
    }
    const late = await connect(owner.token);
    late.send({ type: "subscribe", topics: ["knowledge"], after: 1 });
    const reload = await late.next((m) => m.type === "reload");
    assert.equal(reload.reason, "too_far_behind");
    assert.equal((await late.closed).code, 4409);
  });

  it("stops delivering to a session the moment it logs out", async () => {
    const login = await h.call("POST", "/v1/auth/refresh", { body: { refreshToken: owner.refresh } });
    const token = login.body.accessToken as string;
    owner.refresh = login.body.refreshToken;
    const client = await connect(token);
    await client.subscribe(["knowledge"]);
    assert.equal((await h.call("POST", "/v1/auth/logout", { token })).status, 204);
    const closed = await client.closed;
    assert.equal(closed.code, 4401);
  });

  it("authenticates by a first message, and closes bad connections with a clear code while serving others", async () => {
    const viaMessage = await connect();
    viaMessage.send({ type: "auth", token: outsider });
    // Sent at once, without waiting for the answer: messages are handled in order.
    assert.deepEqual((await viaMessage.subscribe(["knowledge"])).topics, ["knowledge"]);
    assert.equal(viaMessage.messages[0]?.type, "authenticated");

    const badToken = await connect();
    badToken.send({ type: "auth", token: "nonsense" });
    assert.deepEqual(await badToken.closed, { code: 4401, reason: "token_invalid" });
    const notJson = await connect(outsider);
    notJson.send("{not json");
    assert.equal((await notJson.closed).code, 1007);
    const unknown = await connect(outsider);
    unknown.send({ type: "shout" });
    assert.equal((await unknown.closed).code, 1008);
    const badAfter = await connect(outsider);
    badAfter.send({ type: "subscribe", topics: ["knowledge"], after: -3 });
    assert.equal((await badAfter.closed).code, 1008);
    const huge = await connect(outsider);
    huge.send({ type: "subscribe", topics: ["x".repeat(20_000)] });
    assert.equal((await huge.closed).code, 1009);
    const anonymousFirst = await connect();
    anonymousFirst.send({ type: "subscribe", topics: ["knowledge"] });
    assert.equal((await anonymousFirst.closed).code, 4401);

    // The well-behaved client still receives.
    const made = await h.call("POST", "/v1/knowledge/rules", { token: outsider, body: rule("feed-after-abuse") });
    const change = await viaMessage.next((m) => m.type === "change" && m.subject === made.body.id);
    assert.equal(change.event, "rule.created");
  });

  it("answers a plain HTTP request with 426", async () => {
    const res = await h.call("GET", "/v1/changes", { token: outsider });
    assert.equal(res.status, 426);
    assert.equal(res.body.error.code, "upgrade_required");
  });
});
