import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Type } from "typebox";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { httpClient } from "../../test/support/http.ts";
import { StrictObject } from "../platform/schemas.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { StrataModule } from "../runtime/module.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

/** A module of the test's own, registered the way real modules are, to exercise validation and errors. */
const probe: StrataModule = {
  name: "probe",
  migrations: [],
  routes(app, platform) {
    app.post(
      "/probes",
      {
        schema: {
          body: StrictObject({
            email: Type.String({ format: "email" }),
            age: Type.Integer({ minimum: 0 }),
            name: Type.String({ minLength: 1, maxLength: 20 }),
          }),
        },
      },
      async (request, reply) => reply.status(201).send({ received: request.body }),
    );
    app.get("/probes/in-flight", async () => ({ inFlight: platform.database.foreground.inFlight }));
    app.get("/probes/boom", async () => {
      throw new Error("secret internals: password=hunter2");
    });
    app.get(
      "/probes/list",
      {
        schema: {
          querystring: Type.Object(
            { limit: Type.Integer({ minimum: 1, maximum: 100 }) },
            { additionalProperties: false },
          ),
        },
      },
      async (request) => ({ limit: request.query.limit }),
    );
  },
};

describe("HTTP server", () => {
  let app: App;
  let platform: Platform;
  let dispose: () => Promise<void>;
  before(async () => {
    const opened = await openTestPlatform({ BODY_LIMIT_BYTES: "2048" });
    platform = opened.platform;
    dispose = opened.dispose;
    await createMigrator(platform.database, []).up();
    app = await buildServer(platform, [probe]);
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it("counts requests in flight over a real socket, so background steps on the embedded database wait for a gap", async () => {
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const [a, b] = await Promise.all([
      httpClient(base)("GET", "/v1/probes/in-flight"),
      httpClient(base)("GET", "/v1/probes/in-flight"),
    ]);
    assert.ok(a.body.inFlight >= 1 && b.body.inFlight >= 1, JSON.stringify([a.body, b.body]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(platform.database.foreground.inFlight, 0, "every finished response left");
  });

  it("answers liveness", async () => {
    const res = await app.inject("/health");
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, "ok");
  });

  it("reports every dependency's state and latency when ready", async () => {
    const res = await app.inject("/ready");
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, "ready");
    assert.equal(body.profile, "embedded");
    assert.deepEqual(Object.keys(body.dependencies).sort(), ["blobs", "database", "kv"]);
    assert.equal(body.dependencies.database.driver, "pglite");
    assert.equal(body.dependencies.kv.driver, "memory");
    assert.equal(body.dependencies.blobs.driver, "fs");
    for (const dep of Object.values(body.dependencies) as { status: string; latencyMs: number }[]) {
      assert.equal(dep.status, "up");
      assert.equal(typeof dep.latencyMs, "number");
    }
    // PGlite carries pgvector; with no model configured, the offline hashing model embeds everything.
    assert.deepEqual(body.features.vectors, {
      available: true,
      models: { passage: "strata-hashing-v1", short: "strata-hashing-v1" },
    });
  });

  it("exposes Prometheus metrics: requests by route, latency histograms, pool and dependency figures", async () => {
    await app.inject("/health");
    await platform.kv.set("metrics:probe", "1");
    await platform.blobs.head("metrics/none");
    const res = await app.inject("/metrics");
    assert.equal(res.statusCode, 200);
    assert.match(res.headers["content-type"] as string, /^text\/plain/);
    const text = res.body;
    assert.match(text, /strata_http_requests_total\{method="GET",route="\/health",status_code="200"\} \d+/);
    assert.match(text, /strata_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/health"/);
    assert.match(text, /strata_db_pool_connections\{pool="primary",state="total"\} 1/);
    assert.match(
      text,
      /strata_dependency_call_duration_seconds_count\{dependency="kv",driver="memory",operation="set",outcome="ok"\} 1/,
    );
    assert.match(
      text,
      /strata_dependency_call_duration_seconds_count\{dependency="blobs",driver="fs",operation="head",outcome="ok"\} 1/,
    );
    assert.match(text, /process_resident_memory_bytes/);
  });

  it("serves the OpenAPI document and a browsable reference", async () => {
    const doc = (await app.inject("/openapi.json")).json();
    assert.equal(doc.openapi, "3.1.0");
    assert.ok(doc.paths["/health"]);
    assert.ok(doc.paths["/v1/probes"].post.requestBody);
    assert.equal(doc.components.securitySchemes.bearer.scheme, "bearer");
    const docs = await app.inject("/docs/");
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  it("accepts a valid body", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/probes",
      payload: { email: "a@b.co", age: 3, name: "x" },
    });
    assert.equal(res.statusCode, 201);
    assert.deepEqual(res.json().received, { email: "a@b.co", age: 3, name: "x" });
  });

  it("lists each bad field: wrong types, missing and unknown fields", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/probes",
      payload: { email: "not-an-email", age: "three", role: "admin", userId: "u1" },
    });
    assert.equal(res.statusCode, 400);
    const { error } = res.json();
    assert.equal(error.code, "validation_failed");
    const fields = Object.fromEntries(
      error.details.fields.map((f: { field: string; code: string }) => [f.field, f.code]),
    );
    assert.deepEqual(fields, {
      "body.email": "format",
      "body.age": "type",
      "body.name": "required",
      "body.role": "unknown_field",
      "body.userId": "unknown_field",
    });
    assert.match(error.message, /body\.email/);
  });

  it("validates query strings with the field at fault", async () => {
    const res = await app.inject("/v1/probes/list?limit=1000");
    assert.equal(res.statusCode, 400);
    assert.deepEqual(
      res.json().error.details.fields.map((f: { field: string; code: string }) => [f.field, f.code]),
      [["query.limit", "too_large"]],
    );
    assert.equal((await app.inject("/v1/probes/list?limit=5")).json().limit, 5);
  });

  it("refuses malformed JSON, empty bodies and other media types with their own codes", async () => {
    const malformed = await app.inject({
      method: "POST",
      url: "/v1/probes",
      headers: { "content-type": "application/json" },
      payload: '{"email": ',
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().error.code, "malformed_json");
    const empty = await app.inject({
      method: "POST",
      url: "/v1/probes",
      headers: { "content-type": "application/json" },
    });
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.code, "empty_body");
    const xml = await app.inject({
      method: "POST",
      url: "/v1/probes",
      headers: { "content-type": "application/xml" },
      payload: "<a/>",
    });
    assert.equal(xml.statusCode, 415);
    assert.equal(xml.json().error.code, "unsupported_media_type");
  });

  it("answers 413 for a body over the limit", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/probes",
      payload: { email: "a@b.co", age: 1, name: "x".repeat(5000) },
    });
    assert.equal(res.statusCode, 413);
    assert.equal(res.json().error.code, "payload_too_large");
    assert.equal(res.json().error.details.limitBytes, 2048);
  });

  it("answers unknown routes with route_not_found", async () => {
    const res = await app.inject("/v1/nothing-here");
    assert.equal(res.statusCode, 404);
    assert.deepEqual(res.json().error.code, "route_not_found");
  });

  it("hides internals of unexpected errors behind a plain 500", async () => {
    const res = await app.inject("/v1/probes/boom");
    assert.equal(res.statusCode, 500);
    assert.deepEqual(res.json(), {
      error: { code: "internal_error", message: "an unexpected error occurred", details: {} },
    });
    assert.doesNotMatch(res.body, /hunter2|secret|at /);
  });

  it("keeps a caller's plain request id and makes one otherwise", async () => {
    const kept = await app.inject({ url: "/health", headers: { "x-request-id": "trace-42" } });
    assert.equal(kept.headers["x-request-id"], "trace-42");
    const replaced = await app.inject({ url: "/health", headers: { "x-request-id": "bad id\u0000with junk" } });
    assert.match(replaced.headers["x-request-id"] as string, /^[0-9a-f-]{36}$/);
    const errorRes = await app.inject("/v1/nothing");
    assert.match(errorRes.headers["x-request-id"] as string, /^[0-9a-f-]{36}$/);
  });
});
