import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { writingModule } from "../modules/writing/index.ts";
import { TokenSigner } from "../platform/identity/tokens.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

/**
 * Inputs found to give 500s or to be stored altered, each now a 4xx naming
 * the field (the fixes are in one place each: text-input.ts for text,
 * pagination.ts for cursors, tokens.ts for claims, the error handler for
 * media types). fuzz.test.ts tries generated hostile inputs on every route.
 */
describe("hostile input", () => {
  let dispose: () => Promise<void>;
  let app: App;
  let call: ReturnType<typeof client>;
  let token: string;
  let signingSecret: string;
  let auth: { issuer: string; audience: string; accessTokenTtlSeconds: number };

  before(async () => {
    const opened = await openTestPlatform();
    dispose = opened.dispose;
    signingSecret = opened.platform.signingSecret;
    auth = opened.config.auth;
    await createMigrator(opened.platform.database, [writingModule]).up();
    app = await buildServer(opened.platform, [writingModule]);
    call = client(app);
    const registered = await call("POST", "/v1/auth/register", {
      body: { email: `h-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    token = registered.body.accessToken;
  });
  after(async () => {
    await app?.close();
    await dispose?.();
  });

  const problem = (res: { status: number; body: any }) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, "validation_failed");
    return res.body.error.details.fields[0] as { field: string; code: string };
  };

  it("refuses a NUL character in any text, naming the field", async () => {
    const cases: [string, string, unknown, string][] = [
      ["POST", "/v1/documents", { title: "T", content: "a\u0000b" }, "body.content"],
      ["POST", "/v1/documents", { title: "a\u0000", content: "x" }, "body.title"],
      ["POST", "/v1/documents", { title: "T", content: "x", tags: ["ok", "b\u0000d"] }, "body.tags.1"],
      ["POST", "/v1/organizations", { name: "Org\u0000" }, "body.name"],
      ["GET", "/v1/documents?q=a%00b", undefined, "query.q"],
      ["GET", `/v1/documents/${randomUUID()}%00`, undefined, "params.documentId"],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await call(method as "GET" | "POST", url, { token, body });
      assert.deepEqual(problem(res), { field, code: "nul_character", message: "must not contain a NUL character" });
    }
  });

  it("refuses lone surrogates and invalid UTF-8 instead of storing U+FFFD", async () => {
    const lone = await app.inject({
      method: "POST",
      url: "/v1/documents",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: '{"title":"T","content":"half a pair: \\ud83d."}',
    });
    const field = problem({ status: lone.statusCode, body: lone.json() });
    assert.deepEqual([field.field, field.code], ["body.content", "invalid_unicode"]);

    const bytes = await app.inject({
      method: "POST",
      url: "/v1/documents",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: Buffer.concat([Buffer.from('{"title":"T","content":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    });
    const whole = problem({ status: bytes.statusCode, body: bytes.json() });
    assert.deepEqual([whole.field, whole.code], ["body", "invalid_unicode"]);

    // A proper pair and other scripts pass untouched.
    const fine = await call("POST", "/v1/documents", { token, body: { title: "T", content: "pair 😀, 東京, é" } });
    assert.equal(fine.status, 201);
    assert.equal(fine.body.content, "pair 😀, 東京, é");
  });

  it("refuses titles and names that are only white space", async () => {
    for (const [url, body, field] of [
      ["/v1/documents", { title: " \t\n ", content: "x" }, "body.title"],
      ["/v1/organizations", { name: "   " }, "body.name"],
      ["/v1/api-keys", { name: "\u3000", scopes: ["read"] }, "body.name"],
    ] as const) {
      const res = await call("POST", url, { token, body });
      assert.deepEqual(problem(res), { field, code: "blank", message: "must not be blank" });
    }
  });

  it("refuses cursors it did not issue, including dates Postgres cannot hold, on every kind of list", async () => {
    const encode = (text: string) => Buffer.from(text).toString("base64url");
    const id = randomUUID();
    const forged = [
      encode(`-200000-01-01T00:00:00.000Z|${id}`),
      encode(`+275760-09-13T00:00:00.000Z|${id}`),
      encode(`0000-01-01T00:00:00.000Z|${id}`),
      encode(`2024-02-30T00:00:00.000Z|${id}`),
      encode(`2024-01-01T00:00:00.000Z|not-a-uuid`),
      encode(`2024-01-01T00:00:00.000Z|${id}|extra`),
      "!!!",
    ];
    for (const cursor of forged) {
      for (const url of ["/v1/organizations", "/v1/documents", "/v1/api-keys", "/v1/prompt-templates"]) {
        const res = await call("GET", `${url}?cursor=${encodeURIComponent(cursor)}`, { token });
        assert.deepEqual(problem(res).field, "query.cursor", `${url} ${cursor}`);
      }
    }
    const doc = await call("POST", "/v1/documents", { token, body: { title: "T", content: "x" } });
    for (const cursor of [encode("0"), encode("1e3"), encode("99999999999"), encode("-4")]) {
      const res = await call("GET", `/v1/documents/${doc.body.id}/versions?cursor=${cursor}`, { token });
      assert.equal(problem(res).field, "query.cursor", cursor);
    }
    for (const cursor of [encode('{"r":1e999,"id":"x"}'), encode("null"), encode(`{"r":1,"id":"${id}x"}`)]) {
      const res = await call("GET", `/v1/documents?q=word&cursor=${cursor}`, { token });
      assert.equal(problem(res).field, "query.cursor", cursor);
    }
    // Cursors the lists issue still work.
    for (let i = 0; i < 3; i++) await call("POST", "/v1/documents", { token, body: { title: `D${i}`, content: "x" } });
    const first = await call("GET", "/v1/documents?limit=2", { token });
    assert.equal(first.status, 200);
    const second = await call("GET", `/v1/documents?limit=2&cursor=${first.body.nextCursor}`, { token });
    assert.equal(second.status, 200, JSON.stringify(second.body));
    assert.equal(second.body.items.length, 2);
  });

  it("answers 401 to a validly signed token whose claims are not ids", async () => {
    const signer = new TokenSigner(signingSecret, auth);
    const { token: odd } = await signer.signAccess({ sub: "admin", sid: "1", org: "x" });
    const res = await call("GET", "/v1/me", { token: odd });
    assert.equal(res.status, 401);
    assert.equal(res.body.error.code, "token_invalid");
  });

  it("takes the Bearer scheme in any case, and names the media type it refuses", async () => {
    for (const scheme of ["bearer", "BEARER", "Bearer "]) {
      const res = await call("GET", "/v1/me", { headers: { authorization: `${scheme} ${token}` } });
      assert.equal(res.status, 200, scheme);
    }
    const form = await app.inject({
      method: "POST",
      url: "/v1/documents",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      payload: "title=T&content=x",
    });
    assert.equal(form.statusCode, 415);
    assert.equal(form.json().error.code, "unsupported_media_type");
    assert.deepEqual(form.json().error.details, { contentType: "application/x-www-form-urlencoded" });
    assert.match(form.json().error.message, /application\/x-www-form-urlencoded/);
  });

  it("answers URLs the router refuses in the one error shape, with the security headers and a request id", async () => {
    for (const [url, status] of [
      [`/v1/documents/${"a".repeat(150)}`, 400],
      ["/v1/documents/%E0%A4%A", 400],
    ] as const) {
      const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.statusCode, status, url);
      assert.deepEqual(Object.keys(res.json().error).sort(), ["code", "details", "message"]);
      assert.equal(res.headers["x-content-type-options"], "nosniff");
      assert.match(String(res.headers["content-security-policy"]), /frame-ancestors 'none'/);
      assert.ok(res.headers["x-request-id"]);
    }
  });

  it("registers with an email and a password alone, naming the user after the address", async () => {
    const email = `newcomer-${randomUUID().slice(0, 6)}@example.com`;
    const res = await call("POST", "/v1/auth/register", { body: { email, password: "correct horse battery staple" } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.user.name, email.split("@")[0]);
  });
});
