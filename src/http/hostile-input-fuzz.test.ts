import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { sql } from "kysely";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { knowledgeEntries } from "../../test/support/knowledge-fixtures.ts";
import { uploadFile } from "../../test/support/multipart.ts";
import { operationsOf, type Schema } from "../../test/support/openapi-operations.ts";
import { modules } from "../modules/index.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

/**
 * Generated hostile requests for every operation in the OpenAPI document
 * (so a new route is covered the day it is added): path parameters, query
 * parameters and JSON bodies built from each operation's own schemas, with
 * plausible values mixed with hostile ones (NUL, lone surrogates, white
 * space, huge and odd numbers, nested junk, prototype keys, wrong types),
 * sent with and without credentials, as JSON and as other media types. No
 * answer may be a server error (the one 503 allowed is the documented "no
 * AI provider configured"), every error must have the one error shape, and
 * its status and code must be among those the document declares for the
 * operation.
 */

const RUNS_PER_OPERATION = Number(process.env.FUZZ_RUNS ?? 60);

const HOSTILE_TEXT = [
  "",
  " ",
  " \t\n ",
  "\u3000",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "tail \udfff",
  "😀👩‍💻🇫🇷",
  "東京",
  "\u202eevil",
  "../../etc/passwd",
  "%00",
  "%ZZ",
  "' or 1=1 --",
  '"; drop table users; --',
  "<script>alert(1)</script>",
  "null",
  "true",
  "-1",
  "0",
  "1e309",
  "NaN",
  "99999999999999999999",
  "2024-02-30T00:00:00Z",
  "__proto__",
  "x".repeat(5_000),
  "word ".repeat(2_000),
];

const hostileText = fc.oneof(
  fc.constantFrom(...HOSTILE_TEXT),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.uuid(),
);

const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    hostileText,
    fc.integer(),
    fc.constantFrom(-0, 2 ** 31, 2 ** 53 + 1, -(2 ** 63), 1e308, 0.5),
    fc.double({ noNaN: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.oneof(hostileText, fc.constantFrom("__proto__", "constructor")), tie("value"), { maxKeys: 3 }),
  ),
})).value;

/** A value that satisfies the schema more often than not, so requests get past validation too. */
function plausible(schema: Schema | undefined, ids: Record<string, string>, name = ""): fc.Arbitrary<unknown> {
  if (!schema) return hostileValue;
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((s) => plausible(s, ids, name)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      if (schema.format === "uuid") return fc.oneof(fc.constant(ids[name] ?? randomUUID()), fc.uuid());
      if (schema.format === "email") return fc.emailAddress();
      return fc.oneof(
        fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) }),
        fc.constantFrom("hello world", "😀 東京 é", " padded "),
      );
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
    case "number":
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array":
      return fc.array(plausible(schema.items, ids), { maxLength: 3 });
    case "object": {
      const properties = schema.properties ?? {};
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [key, child] of Object.entries(properties)) record[key] = value(child, ids, key);
      return fc.record(record, { requiredKeys: schema.required?.filter((k) => k in properties) ?? [] });
    }
    default:
      return hostileValue;
  }
}

/** Plausible three times in four, hostile otherwise. */
function value(schema: Schema | undefined, ids: Record<string, string>, name = ""): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: plausible(schema, ids, name) }, { weight: 1, arbitrary: hostileValue });
}

/** Percent-encodes the UTF-8 bytes of any string, lone surrogates included (encodeURIComponent throws on them). */
function encodePathSegment(v: string): string {
  return [...Buffer.from(v, "utf8")]
    .map((b) =>
      /[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, "0")}`,
    )
    .join("");
}

/** Path segments sent as they are: bad escapes, invalid UTF-8, traversal. */
const RAW_SEGMENTS = ["%FF", "%00", "%ZZ", "%", "%C3%28", "%ED%A0%80", "..", "%2e%2e", "a%2Fb", "%E2%80%AE"];

function text(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? "");
}

describe("generated hostile input on every route", () => {
  let dispose: () => Promise<void>;
  let app: App;
  let doc: any;
  let tokens: { user: string; other: string; anonymous: string };
  let login: () => Promise<string>;
  let ids: Record<string, string>;

  before(async () => {
    const opened = await openTestPlatform();
    dispose = opened.dispose;
    // Every registered module: each one's routes must answer as the others' do.
    await createMigrator(opened.platform.database, modules).up();
    app = await buildServer(opened.platform, modules);
    const call = client(app);
    const register = async () => {
      const res = await call("POST", "/v1/auth/register", {
        body: { email: `f-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
      });
      assert.equal(res.status, 201);
      return res.body;
    };
    const user = await register();
    // Logging out (of all sessions, even) is tried with sessions of a user of its own.
    const leaver = await register();
    const email = leaver.user.email as string;
    login = async () =>
      (await call("POST", "/v1/auth/login", { body: { email, password: "correct horse battery staple" } })).body
        .accessToken as string;
    const other = await register();
    const anonymous = await call("POST", "/v1/auth/anonymous");
    tokens = { user: user.accessToken, other: other.accessToken, anonymous: anonymous.body.accessToken };
    // The fuzzer is one caller making thousands of requests: its limits are raised out of the way.
    await sql`update organizations set settings = jsonb_set(settings, '{rate_limits}', '{"api": 100000000, "ai": 100000000}')`.execute(
      opened.platform.database.db,
    );
    const document = await call("POST", "/v1/documents", {
      token: tokens.user,
      body: { title: "Fuzzed", content: "Some text to diff and search." },
    });
    await call("POST", `/v1/documents/${document.body.id}/versions`, {
      token: tokens.user,
      body: { content: "Some other text to diff and search." },
    });
    const key = await call("POST", "/v1/api-keys", { token: tokens.user, body: { name: "k", scopes: ["read"] } });
    // Generation resources the fuzzed ids may name, so requests reach past "not found" too.
    const template = await call("POST", "/v1/generation/templates", {
      token: tokens.user,
      body: {
        templateKey: "tmpl_fuzz",
        name: "Fuzzed",
        sections: [{ id: "intro", type: "text", name: "Intro", wordRange: { min: 1, max: 10 } }],
      },
    });
    const component = await call("POST", "/v1/generation/components", {
      token: tokens.user,
      body: { name: "Fuzzed", type: "transformer", config: { format: "markdown" } },
    });
    const pipeline = await call("POST", "/v1/generation/pipelines", {
      token: tokens.user,
      body: { name: "Fuzzed", components: [{ componentId: component.body.id }] },
    });
    const batch = await call("POST", "/v1/generation/batches", {
      token: tokens.user,
      body: { name: "Fuzzed", pipelineId: pipeline.body.id, contexts: [{}, {}] },
    });
    const entry = await call("POST", "/v1/journal/entries", {
      token: tokens.user,
      body: { title: "Fuzzed", content: "A calm day, a little tired." },
    });
    const chat = await call("POST", "/v1/chats", { token: tokens.user, body: { title: "Fuzzed" } });
    const uploaded = await uploadFile(app, tokens.user, { filename: "fuzzed.txt", content: "Fuzzed notes." });
    const knowledge = await knowledgeEntries(call, tokens.user, "fuzz");
    ids = {
      ...knowledge,
      chatId: chat.body.id,
      fileId: uploaded.body.file.id,
      entryId: entry.body.id,
      taskId: entry.body.analysisTaskId,
      templateId: template.body.id,
      componentId: component.body.id,
      pipelineId: pipeline.body.id,
      batchId: batch.body.id,
      contextId: batch.body.contextIds[0],
      documentId: document.body.id,
      organizationId: user.organizationId,
      userId: user.user.id,
      keyId: key.body.apiKey.id,
      suggestionId: randomUUID(),
    };
    doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
  });
  after(async () => {
    await app?.close();
    await dispose?.();
  });

  it("never answers a server error, and every error has the one shape", async (t) => {
    const operations = operationsOf(doc);
    assert.ok(operations.length >= 40, `${operations.length} operations in the document`);
    let tried = 0;
    const statuses = new Map<number, number>();
    for (const op of operations) {
      const pathParams = op.params.filter((p) => p.in === "path");
      const queryParams = op.params.filter((p) => p.in === "query");
      const request = fc.record({
        path: fc.record(
          Object.fromEntries(
            pathParams.map((p) => [
              p.name,
              fc.oneof(
                { weight: 9, arbitrary: value(p.schema, ids, p.name).map((v) => encodePathSegment(text(v))) },
                { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
              ),
            ]),
          ),
        ),
        query: fc.record(Object.fromEntries(queryParams.map((p) => [p.name, value(p.schema, ids, p.name)])), {
          requiredKeys: [],
        }),
        extraQuery: fc.option(fc.tuple(hostileText, hostileText), { nil: null }),
        body: op.body ? value(op.body, ids) : fc.option(hostileValue, { nil: undefined }),
        encoding: fc.constantFrom("json", "json", "json", "json", "text", "form", "bytes", "none"),
        auth: fc.constantFrom("user", "user", "user", "other", "anonymous", "none", "garbage", "lowercase"),
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          tried++;
          let url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => String(r.path[name]));
          const query = new URLSearchParams();
          for (const [name, v] of Object.entries(r.query)) query.append(name, text(v));
          if (r.extraQuery) query.append(r.extraQuery[0], r.extraQuery[1]);
          if ([...query].length > 0) url += `?${query}`;
          const headers: Record<string, string> = {};
          // Logging out ends sessions: it is called with a fresh session of another user.
          const own = op.path.endsWith("/auth/logout") && r.auth === "user" ? await login() : null;
          if (own) {
            headers.authorization = `Bearer ${own}`;
          } else if (r.auth === "user" || r.auth === "other" || r.auth === "anonymous") {
            headers.authorization = `Bearer ${tokens[r.auth]}`;
          } else if (r.auth === "garbage") {
            headers.authorization = "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.";
          } else if (r.auth === "lowercase" && !op.path.endsWith("/auth/logout")) {
            headers.authorization = `bearer ${tokens.user}`;
          }
          let payload: string | Buffer | undefined;
          if (r.body !== undefined && op.method !== "GET" && op.method !== "DELETE") {
            const json = JSON.stringify(r.body) ?? "null";
            if (r.encoding === "json") {
              headers["content-type"] = "application/json";
              payload = json;
            } else if (r.encoding === "text") {
              headers["content-type"] = "text/plain";
              payload = json;
            } else if (r.encoding === "form") {
              headers["content-type"] = "application/x-www-form-urlencoded";
              payload = "a=1&b=%00";
            } else if (r.encoding === "bytes") {
              headers["content-type"] = "application/json";
              payload = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
            }
          }
          const res = await app.inject({
            method: op.method as "GET",
            url,
            headers,
            remoteAddress: `127.0.${tried % 250}.${(tried >> 8) % 250}`,
            ...(payload !== undefined ? { payload } : {}),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const where = `${op.method} ${url.slice(0, 200)} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
          if (res.statusCode < 400) return;
          const body = res.json() as { error?: { code?: unknown; message?: unknown; details?: unknown } };
          assert.deepEqual(Object.keys(body), ["error"], where);
          assert.deepEqual(Object.keys(body.error ?? {}).sort(), ["code", "details", "message"], where);
          assert.match(String(body.error?.code), /^[a-z][a-z0-9_]*$/, where);
          assert.equal(typeof body.error?.message, "string", where);
          assert.equal(typeof body.error?.details, "object", where);
          const allowed = res.statusCode === 503 && body.error?.code === "ai_provider_not_configured";
          assert.ok(res.statusCode < 500 || allowed, where);
          // The document said so: this status, with this code, for this operation
          // (unless the URL, "..", say, no longer names the operation at all).
          if (body.error?.code === "route_not_found") return;
          const declared = op.errors.get(res.statusCode);
          assert.ok(declared, `${where}: status not in the document`);
          assert.ok(declared.has(String(body.error?.code)), `${where}: code not in the document`);
        }),
        { numRuns: RUNS_PER_OPERATION, endOnFailure: true, includeErrorInReport: true },
      );
    }
    t.diagnostic(
      `${tried} generated requests over ${operations.length} operations; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
  });
});
