import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../../test/support/chat-completions-server.ts";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { knowledgeEntries } from "../../test/support/knowledge-fixtures.ts";
import { uploadFile } from "../../test/support/multipart.ts";
import { type Operation, operationsOf, type Schema } from "../../test/support/openapi-operations.ts";
import { modules } from "../modules/index.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { App } from "./app.ts";
import { buildServer } from "./server.ts";

/**
 * The authorization matrix, generated from the route table (the OpenAPI
 * document): every operation that takes an id in its path is called with
 * the ids of one user's resources (user A, in organization X) by each
 * outsider, and each must get 404, exactly as for an id that does not
 * exist: another user, an anonymous session, and an API key A made in
 * another organization of A's (Y). Bodies are built from each operation's
 * own schema, so validation passes and the answer is the route's. Then A
 * calls every operation with the same ids and gets no 404, which shows the
 * ids are real. A new route with an id is in the matrix the day it is added.
 */

/** An operation that takes ids in its path, with its required query parameters. */
interface IdOperation extends Operation {
  pathParams: string[];
  query: [string, Schema][];
}

/** The smallest body the schema accepts: required fields only, each with a plain valid value. */
function minimalBody(schema: Schema, fill: Record<string, unknown>, name = ""): unknown {
  if (name in fill) return fill[name];
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return minimalBody(schema.anyOf[0] as Schema, fill, name);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      if (schema.format === "uuid") return randomUUID();
      if (schema.format === "email") return `nobody-${randomUUID().slice(0, 6)}@example.com`;
      return "matrix text".padEnd(schema.minLength ?? 0, ".");
    case "integer":
    case "number":
      return Math.max(schema.minimum ?? 1, 1);
    case "boolean":
      return false;
    case "array":
      return Array.from({ length: schema.minItems ?? 0 }, () => minimalBody(schema.items ?? {}, fill));
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (schema.required?.includes(key) || key in fill) out[key] = minimalBody(property, fill, key);
      }
      return out;
    }
    default:
      return null;
  }
}

describe("authorization matrix", () => {
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  let dispose: () => Promise<void>;
  let app: App;
  let call: ReturnType<typeof client>;
  let operations: IdOperation[];
  let ids: Record<string, string>;
  let owner: string;
  let outsiders: [string, string][];
  let bodyFill: Record<string, unknown>;

  before(async () => {
    ai = await startChatCompletionsServer();
    const opened = await openTestPlatform({ AI_BASE_URL: ai.baseUrl, AI_MODEL: "test-model" });
    dispose = opened.dispose;
    // Every registered module: each one's routes must answer as the others' do.
    await createMigrator(opened.platform.database, modules).up();
    app = await buildServer(opened.platform, modules);
    call = client(app);
    const ok = (res: { status: number; body: any }, status: number) => {
      assert.equal(res.status, status, JSON.stringify(res.body));
      return res.body;
    };
    const register = async () =>
      ok(
        await call("POST", "/v1/auth/register", {
          body: { email: `m-${randomUUID().slice(0, 8)}@example.com`, password: "correct horse battery staple" },
        }),
        201,
      );
    const a = await register();
    const b = await register();
    owner = a.accessToken;
    // A's resources in X (A's personal organization).
    const doc = ok(
      await call("POST", "/v1/documents", { token: owner, body: { title: "A's", content: "First words." } }),
      201,
    );
    ok(
      await call("POST", `/v1/documents/${doc.id}/versions`, { token: owner, body: { content: "Second words." } }),
      201,
    );
    const suggestion = ok(
      await call("POST", `/v1/documents/${doc.id}/suggestions`, { token: owner, body: { prompt: "Improve it." } }),
      201,
    );
    const key = ok(
      await call("POST", "/v1/api-keys", { token: owner, body: { name: "x", scopes: ["read", "write", "admin"] } }),
      201,
    );
    // A's generation resources in X: a template, components in a pipeline, a context and a batch.
    const template = ok(
      await call("POST", "/v1/generation/templates", {
        token: owner,
        body: {
          templateKey: "tmpl_matrix",
          name: "A's",
          sections: [{ id: "intro", type: "text", name: "Intro", wordRange: { min: 1, max: 10 } }],
        },
      }),
      201,
    );
    const component = ok(
      await call("POST", "/v1/generation/components", {
        token: owner,
        body: { name: "A's", type: "transformer", config: { format: "markdown" } },
      }),
      201,
    );
    const pipeline = ok(
      await call("POST", "/v1/generation/pipelines", {
        token: owner,
        body: { name: "A's", components: [{ componentId: component.id }] },
      }),
      201,
    );
    const context = ok(
      await call("POST", "/v1/generation/contexts", { token: owner, body: { type: "note", pipelineId: pipeline.id } }),
      201,
    );
    const batch = ok(
      await call("POST", "/v1/generation/batches", {
        token: owner,
        body: { name: "A's", pipelineId: pipeline.id, contexts: [{}] },
      }),
      201,
    );
    // A's journal entry, and the analysis task its save queued.
    const entry = ok(
      await call("POST", "/v1/journal/entries", {
        token: owner,
        body: { title: "A's day", content: "Calm and rested." },
      }),
      201,
    );
    // A's chat, and a file of A's.
    const chat = ok(await call("POST", "/v1/chats", { token: owner, body: { title: "A's chat" } }), 201);
    const uploaded = await uploadFile(app, owner, { filename: "a.txt", content: "A's notes." });
    assert.equal(uploaded.status, 201, JSON.stringify(uploaded.body));
    // A's organization's knowledge: a rule, a practice and a template.
    const knowledge = await knowledgeEntries(call, owner, "a-1");
    // Y: another organization of A's, and a key with every scope made in it.
    const y = ok(await call("POST", "/v1/organizations", { token: owner, body: { name: "Y" } }), 201);
    const inY = ok(
      await call("POST", "/v1/auth/refresh", { body: { refreshToken: a.refreshToken, organizationId: y.id } }),
      200,
    );
    const keyOfY = ok(
      await call("POST", "/v1/api-keys", {
        token: inY.accessToken,
        body: { name: "y", scopes: ["read", "write", "admin"] },
      }),
      201,
    );
    // The refresh rotated A's session: log in again for A's own token in X.
    owner = ok(
      await call("POST", "/v1/auth/login", { body: { email: a.user.email, password: "correct horse battery staple" } }),
      200,
    ).accessToken;
    const anonymous = ok(await call("POST", "/v1/auth/anonymous"), 201);
    ids = {
      documentId: doc.id,
      number: "1",
      organizationId: a.organizationId,
      userId: a.user.id,
      keyId: key.apiKey.id,
      suggestionId: suggestion.id,
      templateKey: template.templateKey,
      version: "1",
      templateId: template.id,
      componentId: component.id,
      pipelineId: pipeline.id,
      contextId: context.id,
      batchId: batch.id,
      entryId: entry.id,
      taskId: entry.analysisTaskId,
      chatId: chat.id,
      fileId: uploaded.body.file.id,
      ...knowledge,
    };
    // Bodies that name someone name B, who exists, so "no such user" is not the answer; a suggestion needs a prompt.
    bodyFill = { email: b.user.email, prompt: "Improve it.", from: 1, to: 2, content: "Hello." };
    outsiders = [
      ["another user", b.accessToken],
      ["an anonymous session", anonymous.accessToken],
      ["a key of another organization", keyOfY.key],
    ];
    const apiDocument = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    operations = operationsOf(apiDocument)
      .map((op) => ({
        ...op,
        pathParams: op.params.filter((p) => p.in === "path").map((p) => p.name),
        query: op.params.filter((p) => p.in === "query" && p.required).map((p): [string, Schema] => [p.name, p.schema]),
      }))
      .filter((op) => op.pathParams.length > 0);
  });
  after(async () => {
    await app?.close();
    await dispose?.();
    await ai?.stop();
  });

  const send = (op: IdOperation, token: string) => {
    const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const id = ids[name];
      assert.ok(id, `no fixture for the path parameter ${name} of ${op.method} ${op.path}`);
      return id;
    });
    const query = op.query.map(
      ([name, schema]) => `${name}=${encodeURIComponent(String(minimalBody(schema, bodyFill, name)))}`,
    );
    const body = op.body ? minimalBody(op.body, bodyFill) : undefined;
    return call(op.method, query.length > 0 ? `${url}?${query.join("&")}` : url, {
      token,
      ...(body !== undefined ? { body } : {}),
    });
  };

  it("answers 404 to every outsider on every route that takes an id", async (t) => {
    assert.ok(operations.length >= 20, `${operations.length} operations take an id`);
    const wrong: string[] = [];
    for (const op of operations) {
      for (const [who, token] of outsiders) {
        const res = await send(op, token);
        if (res.status !== 404) wrong.push(`${op.method} ${op.path} as ${who}: ${res.status} ${res.body?.error?.code}`);
      }
    }
    assert.deepEqual(wrong, [], wrong.join("\n"));
    t.diagnostic(
      `${operations.length} operations x ${outsiders.length} outsiders = ${operations.length * outsiders.length} cells`,
    );
  });

  it("answers the owner with no 404 on the same ids, so the ids were real", async () => {
    // Deletions last, so every other route still finds what it names.
    const ordered = [...operations].sort((x, y) => Number(x.method === "DELETE") - Number(y.method === "DELETE"));
    const missing: string[] = [];
    for (const op of ordered) {
      const res = await send(op, owner);
      if (res.status === 404) missing.push(`${op.method} ${op.path}: ${res.body?.error?.code}`);
    }
    assert.deepEqual(missing, [], missing.join("\n"));
  });
});
