import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { TokenSigner } from "../../../src/platform/identity/tokens.ts";
import { GENERATED_TYPES, typesFor } from "../scripts/generate-types.ts";
import {
  createStrataClient,
  isStrataError,
  memoryTokenStore,
  type StrataClient,
  StrataError,
  type SuggestionEvent,
  type TokenStore,
  unwrap,
} from "../src/index.ts";
import { type EmbeddedServer, startEmbeddedServer } from "./embedded-server.ts";

describe("@strata/client against a real embedded server", () => {
  let server: EmbeddedServer;
  // No grace period for a refresh token presented twice: a second refresh
  // with the same token ends the session, so a client that refreshed twice
  // would fail the tests below rather than pass by luck.
  before(async () => {
    server = await startEmbeddedServer({ REFRESH_REUSE_GRACE_SECONDS: "0" });
  });
  after(async () => {
    await server?.close();
  });

  const password = "correct horse battery staple";
  const email = () => `c-${randomUUID().slice(0, 8)}@example.com`;

  /** A client with a client address of its own, and the requests it sent ("GET /v1/me"). */
  function newClient(tokens?: TokenStore): { client: StrataClient; sent: string[] } {
    const sent: string[] = [];
    const client = createStrataClient({
      baseUrl: server.baseUrl,
      headers: { "x-forwarded-for": server.clientAddress() },
      ...(tokens ? { tokens } : {}),
      fetch: (request) => {
        sent.push(`${request.method} ${new URL(request.url).pathname}`);
        return fetch(request);
      },
    });
    return { client, sent };
  }

  let expiredTokens = 0;
  /**
   * The same session's access token, signed by the server's key but expired
   * a minute or more ago (each one a different token).
   */
  async function expired(accessToken: string): Promise<string> {
    const payload = JSON.parse(Buffer.from(accessToken.split(".")[1] ?? "", "base64url").toString());
    const { issuer, audience } = server.platform.config.auth;
    const accessTokenTtlSeconds = -60 - ++expiredTokens;
    const signer = new TokenSigner(server.platform.signingSecret, { issuer, audience, accessTokenTtlSeconds });
    return (await signer.signAccess({ sub: payload.sub, sid: payload.sid, org: payload.org })).token;
  }

  async function expireStoredToken(client: StrataClient) {
    const stored = await client.auth.session();
    assert.ok(stored);
    await client.tokens.set({ ...stored, accessToken: await expired(stored.accessToken) });
    return stored;
  }

  it("registers, keeps the session for every request, logs out and logs in again", async () => {
    const { client } = newClient();
    const address = email();
    const registered = await client.auth.register({ email: address, password, name: "Ada" });
    assert.equal(registered.user.email, address);
    assert.deepEqual(await client.auth.session(), {
      kind: "user",
      accessToken: registered.accessToken,
      expiresAt: registered.expiresAt,
      refreshToken: registered.refreshToken,
      refreshExpiresAt: registered.refreshExpiresAt,
      organizationId: registered.organizationId,
    });
    const me = await unwrap(client.GET("/v1/me"));
    assert.equal(me.user.id, registered.user.id);
    assert.equal(me.organizationId, registered.organizationId);

    await client.auth.logout();
    assert.equal(await client.auth.session(), null);
    // Ended on the server, not only forgotten here.
    const ended = await fetch(`${server.baseUrl}/v1/me`, {
      headers: { authorization: `Bearer ${registered.accessToken}`, "x-forwarded-for": server.clientAddress() },
    });
    assert.equal(ended.status, 401);
    // Without a session, a call answers the typed error rather than throwing.
    const signedOut = await client.GET("/v1/me");
    assert.equal(signedOut.response.status, 401);
    assert.equal(signedOut.error?.error.code, "authentication_required");

    const loggedIn = await client.auth.login({ email: address, password });
    assert.equal(loggedIn.user.id, registered.user.id);
    assert.notEqual(loggedIn.refreshToken, registered.refreshToken);
    assert.equal((await unwrap(client.GET("/v1/me"))).user.email, address);
  });

  it("refreshes an expired access token once for concurrent requests, then sends each again", async () => {
    const { client, sent } = newClient();
    const registered = await client.auth.register({ email: email(), password });
    const before = await expireStoredToken(client);
    sent.length = 0;
    const reads = await Promise.all(Array.from({ length: 5 }, () => unwrap(client.GET("/v1/me"))));
    for (const me of reads) assert.equal(me.user.id, registered.user.id);
    assert.equal(sent.filter((line) => line === "POST /v1/auth/refresh").length, 1, sent.join("\n"));
    assert.equal(sent.filter((line) => line === "GET /v1/me").length, 10, "each refused once, then sent again");
    const after = await client.auth.session();
    assert.ok(after?.refreshToken);
    assert.notEqual(after.refreshToken, before.refreshToken, "the refresh token was rotated and stored");
    assert.equal(after.organizationId, registered.organizationId);
    // The session lives on: its refresh token was never presented twice.
    assert.equal((await client.GET("/v1/me")).response.status, 200);

    // A request with a body is sent again whole.
    await expireStoredToken(client);
    sent.length = 0;
    const doc = await unwrap(
      client.POST("/v1/documents", { body: { title: "Sent twice", content: "the body survives the retry" } }),
    );
    assert.equal(doc.content, "the body survives the retry");
    assert.deepEqual(sent, ["POST /v1/documents", "POST /v1/auth/refresh", "POST /v1/documents"]);
  });

  it("forgets the session and answers the refusal when the refresh token is refused", async () => {
    const { client, sent } = newClient();
    const address = email();
    await client.auth.register({ email: address, password });
    // Another device signs in and ends every session of the user.
    const { client: other } = newClient();
    await other.auth.login({ email: address, password });
    await other.auth.logout({ allSessions: true });

    await expireStoredToken(client);
    sent.length = 0;
    const result = await client.GET("/v1/me");
    assert.equal(result.response.status, 401);
    assert.equal(result.error?.error.code, "session_revoked");
    assert.deepEqual(sent, ["GET /v1/me", "POST /v1/auth/refresh"], "not sent again after a refused refresh");
    assert.equal(await client.auth.session(), null);
    await assert.rejects(unwrap(client.GET("/v1/me")), (error) => isStrataError(error, "authentication_required"));
  });

  it("starts an anonymous session, then claims its documents on registering", async () => {
    const { client } = newClient();
    const anonymous = await client.auth.anonymous();
    assert.match(anonymous.accessToken, /^anon_/);
    assert.equal((await client.auth.session())?.kind, "anonymous");
    const draft = await unwrap(client.POST("/v1/documents", { body: { title: "Before signing up", content: "mine" } }));

    const registered = await client.auth.register({ email: email(), password });
    const owned: string[] = [];
    for await (const document of client.paginate("/v1/documents")) owned.push(document.id);
    assert.deepEqual(owned, [draft.id], "the anonymous session's document is the account's now");
    const read = await unwrap(client.GET("/v1/documents/{documentId}", { params: { path: { documentId: draft.id } } }));
    assert.equal(read.content, "mine");
    assert.equal((await client.auth.session())?.organizationId, registered.organizationId);

    // A session that was claimed already (or expired) has nothing left to
    // claim: signing up with it still works, without it.
    const { client: late } = newClient(
      memoryTokenStore({
        kind: "anonymous",
        accessToken: anonymous.accessToken,
        expiresAt: anonymous.expiresAt,
        refreshToken: null,
        refreshExpiresAt: null,
        organizationId: null,
      }),
    );
    await late.auth.register({ email: email(), password });
    assert.equal((await late.auth.session())?.kind, "user");
    assert.deepEqual((await unwrap(late.GET("/v1/documents"))).items, []);
  });

  it("throws typed errors with the server's status, code, details and Retry-After", async () => {
    const { client } = newClient();
    await client.auth.register({ email: email(), password });

    const missing = await unwrap(
      client.GET("/v1/documents/{documentId}", { params: { path: { documentId: randomUUID() } } }),
    ).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(isStrataError(missing));
    assert.equal(missing.code, "document_not_found");
    assert.ok(isStrataError(missing, "document_not_found", "version_not_found"));
    assert.equal(isStrataError(missing, "validation_failed"), false);
    assert.equal(missing.status, 404);
    assert.equal(missing.retryAfter, null);
    assert.ok(missing.requestId, "the request id, to find the request in the server's log");

    const invalid = await unwrap(client.POST("/v1/documents", { body: { title: " ", content: "x" } })).then(
      () => null,
      (error: unknown) => error,
    );
    assert.ok(isStrataError(invalid, "validation_failed"));
    assert.equal(invalid.status, 400);
    const fields = (invalid.details as { fields?: { field: string; code: string }[] }).fields ?? [];
    assert.deepEqual(
      fields.map((f) => [f.field, f.code]),
      [["body.title", "blank"]],
    );

    // Auth routes allow 20 requests a minute per client address.
    const { client: eager } = newClient();
    let limited: unknown = null;
    for (let i = 0; i < 25 && limited === null; i++) await eager.auth.anonymous().catch((error) => (limited = error));
    assert.ok(isStrataError(limited, "rate_limited"), String(limited));
    assert.equal(limited.status, 429);
    assert.ok(limited.retryAfter !== null && limited.retryAfter >= 1, `Retry-After ${limited.retryAfter}`);
  });

  it("iterates every page of every list, following nextCursor", async () => {
    const { client, sent } = newClient();
    await client.auth.register({ email: email(), password });
    const created: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const tags = i % 2 === 1 ? ["odd"] : [];
      created.push(
        (await unwrap(client.POST("/v1/documents", { body: { title: `Doc ${i}`, content: "x", tags } }))).id,
      );
    }
    sent.length = 0;
    const titles: string[] = [];
    for await (const document of client.paginate("/v1/documents", { params: { query: { limit: 2 } } })) {
      titles.push(document.title);
    }
    assert.deepEqual(titles, ["Doc 5", "Doc 4", "Doc 3", "Doc 2", "Doc 1"]);
    assert.equal(sent.length, 3, "three pages of at most two");

    const sizes: number[] = [];
    for await (const page of client.pages("/v1/documents", { params: { query: { limit: 2 } } })) {
      sizes.push(page.items.length);
    }
    assert.deepEqual(sizes, [2, 2, 1]);

    // Filters stay on every page.
    const odd: string[] = [];
    for await (const document of client.paginate("/v1/documents", { params: { query: { limit: 1, tags: "odd" } } })) {
      odd.push(document.title);
    }
    assert.deepEqual(odd, ["Doc 5", "Doc 3", "Doc 1"]);

    // Leaving the loop early fetches no further page.
    sent.length = 0;
    for await (const document of client.paginate("/v1/documents", { params: { query: { limit: 2 } } })) {
      assert.equal(document.title, "Doc 5");
      break;
    }
    assert.deepEqual(sent, ["GET /v1/documents"]);

    // A list under a path parameter: one document's versions.
    const first = created[0] ?? "";
    for (const content of ["y", "z"]) {
      await unwrap(
        client.POST("/v1/documents/{documentId}/versions", {
          params: { path: { documentId: first } },
          body: { content },
        }),
      );
    }
    const numbers: number[] = [];
    const versions = client.paginate("/v1/documents/{documentId}/versions", {
      params: { path: { documentId: first }, query: { limit: 1 } },
    });
    for await (const version of versions) numbers.push(version.number);
    assert.deepEqual(numbers, [3, 2, 1]);
  });

  it("streams a suggestion's server-sent events as they arrive", async () => {
    const { client } = newClient();
    await client.auth.register({ email: email(), password });
    const content = "the first sentence is here. the second one is a little longer than the first.";
    const doc = await unwrap(client.POST("/v1/documents", { body: { title: "Stream", content } }));

    const events: SuggestionEvent[] = [];
    for await (const event of client.streamSuggestion(doc.id, { prompt: "Capitalize the sentences." })) {
      events.push(event);
    }
    const chunks = events.flatMap((event) => (event.event === "chunk" ? [event.data.text] : []));
    assert.ok(chunks.length > 1, "the reply arrives in pieces");
    const last = events.at(-1);
    assert.equal(last?.event, "suggestion");
    assert.equal(events.filter((event) => event.event === "suggestion").length, 1);
    if (last?.event !== "suggestion") return;
    const expected = "The first sentence is here. The second one is a little longer than the first.";
    assert.equal(chunks.join(""), expected);
    assert.equal(last.data.content, expected);
    assert.equal(last.data.documentId, doc.id);
    // The stored suggestion is a real one: accepting it makes it the document's content.
    await unwrap(
      client.POST("/v1/suggestions/{suggestionId}/accept", { params: { path: { suggestionId: last.data.id } } }),
    );
    const read = await unwrap(client.GET("/v1/documents/{documentId}", { params: { path: { documentId: doc.id } } }));
    assert.equal(read.content, expected);

    // A refusal before the stream opens is thrown, typed.
    const drain = async (documentId: string, prompt: string) => {
      for await (const _ of client.streamSuggestion(documentId, { prompt })) {
        // read to the end
      }
    };
    await assert.rejects(drain(randomUUID(), "Anything."), (error) => isStrataError(error, "document_not_found"));
    // So is an `error` event inside the stream (the provider fails once the stream is open).
    server.ai.failNext(2, 500);
    try {
      await assert.rejects(drain(doc.id, "Try again later."), (error: unknown) => {
        assert.ok(error instanceof StrataError);
        assert.equal(error.status, 200, "sent inside the stream");
        assert.match(error.code, /^ai_/);
        return true;
      });
    } finally {
      server.ai.failNext(0);
    }
  });

  it("was generated from the OpenAPI document this server serves", async () => {
    const document = (await (await fetch(`${server.baseUrl}/openapi.json`)).json()) as Record<string, unknown>;
    assert.equal(
      await readFile(GENERATED_TYPES, "utf8"),
      await typesFor(document),
      "packages/client/src/generated/openapi.ts is out of date: run npm run build",
    );
  });
});
