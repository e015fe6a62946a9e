import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { openTestPlatform } from "../../test/support/embedded.ts";
import { client } from "../../test/support/http.ts";
import { modules } from "../modules/index.ts";
import { ERROR_CODES, type ErrorCode, isErrorCode, statusOf } from "../platform/errors/codes.ts";
import { createMigrator } from "../runtime/migrations.ts";
import type { App } from "./app.ts";
import { errorResponses } from "./error-responses.ts";
import { buildServer } from "./server.ts";

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
}
interface Response {
  description?: string;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[];
  requestBody?: unknown;
  responses: Record<string, Response>;
}
interface Document {
  components: { securitySchemes: Record<string, { type: string; scheme?: string }> };
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ["get", "post", "put", "patch", "delete"] as const;

/**
 * Every operation's id, as released: generated clients name their methods
 * after them, so a rename breaks callers. A new route adds its row here.
 */
const OPERATION_IDS: Record<string, string> = {
  "GET /health": "getHealth",
  "GET /ready": "getReadiness",
  "GET /metrics": "getMetrics",
  "GET /v1/blob-downloads": "downloadBlob",
  "POST /v1/auth/anonymous": "startAnonymousSession",
  "POST /v1/auth/register": "register",
  "POST /v1/auth/login": "login",
  "POST /v1/auth/refresh": "refreshTokens",
  "POST /v1/auth/logout": "logout",
  "GET /v1/me": "getMe",
  "GET /v1/me/preferences": "getPreferences",
  "PATCH /v1/me/preferences": "updatePreferences",
  "GET /v1/organizations": "listOrganizations",
  "POST /v1/organizations": "createOrganization",
  "GET /v1/organizations/{organizationId}": "getOrganization",
  "PATCH /v1/organizations/{organizationId}": "updateOrganization",
  "GET /v1/organizations/{organizationId}/members": "listMembers",
  "POST /v1/organizations/{organizationId}/members": "addMember",
  "PATCH /v1/organizations/{organizationId}/members/{userId}": "changeMemberRole",
  "DELETE /v1/organizations/{organizationId}/members/{userId}": "removeMember",
  "GET /v1/api-keys": "listApiKeys",
  "POST /v1/api-keys": "createApiKey",
  "DELETE /v1/api-keys/{keyId}": "revokeApiKey",
  "POST /v1/documents": "createDocument",
  "GET /v1/search": "search",
  "POST /v1/journal/entries": "createJournalEntry",
  "GET /v1/journal/entries": "listJournalEntries",
  "GET /v1/journal/entries/{entryId}": "getJournalEntry",
  "PATCH /v1/journal/entries/{entryId}": "updateJournalEntry",
  "DELETE /v1/journal/entries/{entryId}": "deleteJournalEntry",
  "GET /v1/journal/entries/{entryId}/similar": "listSimilarJournalEntries",
  "GET /v1/journal/search": "searchJournal",
  "GET /v1/journal/topics": "listJournalTopics",
  "POST /v1/journal/topics": "createJournalTopic",
  "GET /v1/journal/topics/suggestions": "listJournalTopicSuggestions",
  "GET /v1/journal/mood-trends": "getJournalMoodTrends",
  "GET /v1/journal/insights": "getJournalInsights",
  "GET /v1/journal/statistics": "getJournalStatistics",
  "GET /v1/journal/tasks/{taskId}": "getJournalAnalysisTask",
  "POST /v1/chats": "createChat",
  "GET /v1/chats": "listChats",
  "GET /v1/chats/{chatId}": "getChat",
  "PATCH /v1/chats/{chatId}": "updateChat",
  "DELETE /v1/chats/{chatId}": "deleteChat",
  "GET /v1/chats/{chatId}/messages": "listChatMessages",
  "POST /v1/chats/{chatId}/messages": "sendChatMessage",
  "POST /v1/chats/{chatId}/regenerate": "regenerateChatReply",
  "POST /v1/files": "uploadFile",
  "GET /v1/files": "listFiles",
  "GET /v1/files/search": "searchFiles",
  "GET /v1/files/{fileId}": "getFile",
  "DELETE /v1/files/{fileId}": "deleteFile",
  "POST /v1/knowledge/rules": "createKnowledgeRule",
  "GET /v1/knowledge/rules": "listKnowledgeRules",
  "GET /v1/knowledge/rules/{ruleId}": "getKnowledgeRule",
  "PATCH /v1/knowledge/rules/{ruleId}": "updateKnowledgeRule",
  "DELETE /v1/knowledge/rules/{ruleId}": "deleteKnowledgeRule",
  "POST /v1/knowledge/practices": "createKnowledgePractice",
  "GET /v1/knowledge/practices": "listKnowledgePractices",
  "GET /v1/knowledge/practices/{practiceId}": "getKnowledgePractice",
  "PATCH /v1/knowledge/practices/{practiceId}": "updateKnowledgePractice",
  "DELETE /v1/knowledge/practices/{practiceId}": "deleteKnowledgePractice",
  "POST /v1/knowledge/templates": "createKnowledgeTemplate",
  "GET /v1/knowledge/templates": "listKnowledgeTemplates",
  "GET /v1/knowledge/templates/{knowledgeTemplateId}": "getKnowledgeTemplate",
  "PATCH /v1/knowledge/templates/{knowledgeTemplateId}": "updateKnowledgeTemplate",
  "DELETE /v1/knowledge/templates/{knowledgeTemplateId}": "deleteKnowledgeTemplate",
  "POST /v1/knowledge/templates/{knowledgeTemplateId}/use": "useKnowledgeTemplate",
  "GET /v1/knowledge/search": "searchKnowledge",
  "GET /v1/changes": "followChanges",
  "GET /v1/documents": "listDocuments",
  "GET /v1/documents/{documentId}": "getDocument",
  "PATCH /v1/documents/{documentId}": "updateDocument",
  "DELETE /v1/documents/{documentId}": "deleteDocument",
  "POST /v1/documents/{documentId}/restore": "restoreDocument",
  "GET /v1/documents/{documentId}/download-url": "getDocumentDownloadUrl",
  "POST /v1/documents/{documentId}/versions": "createDocumentVersion",
  "GET /v1/documents/{documentId}/versions": "listDocumentVersions",
  "GET /v1/documents/{documentId}/versions/{number}": "getDocumentVersion",
  "GET /v1/documents/{documentId}/diff": "diffDocumentVersions",
  "POST /v1/documents/{documentId}/versions/{number}/restore": "restoreDocumentVersion",
  "POST /v1/documents/{documentId}/suggestions": "requestSuggestion",
  "POST /v1/suggestions/{suggestionId}/accept": "acceptSuggestion",
  "POST /v1/suggestions/{suggestionId}/reject": "rejectSuggestion",
  "GET /v1/prompt-templates": "listPromptTemplates",
  "POST /v1/prompt-templates": "createPromptTemplate",
  "POST /v1/generation/templates": "createGenerationTemplate",
  "GET /v1/generation/templates": "listGenerationTemplates",
  "GET /v1/generation/templates/{templateKey}": "getGenerationTemplate",
  "POST /v1/generation/templates/{templateKey}/versions": "createGenerationTemplateVersion",
  "GET /v1/generation/templates/{templateKey}/versions/{version}": "getGenerationTemplateVersion",
  "POST /v1/generation/templates/{templateKey}/deactivate": "deactivateGenerationTemplate",
  "POST /v1/generation/templates/{templateKey}/reactivate": "reactivateGenerationTemplate",
  "GET /v1/generation/template-versions/{templateId}": "getGenerationTemplateById",
  "POST /v1/generation/components": "createGenerationComponent",
  "GET /v1/generation/components": "listGenerationComponents",
  "GET /v1/generation/components/{componentId}": "getGenerationComponent",
  "PATCH /v1/generation/components/{componentId}": "updateGenerationComponent",
  "POST /v1/generation/pipelines": "createGenerationPipeline",
  "GET /v1/generation/pipelines": "listGenerationPipelines",
  "GET /v1/generation/pipelines/{pipelineId}": "getGenerationPipeline",
  "PATCH /v1/generation/pipelines/{pipelineId}": "updateGenerationPipeline",
  "GET /v1/generation/pipelines/{pipelineId}/stats": "getGenerationPipelineStats",
  "POST /v1/generation/contexts": "createGenerationContext",
  "GET /v1/generation/contexts": "listGenerationContexts",
  "GET /v1/generation/contexts/{contextId}": "getGenerationContext",
  "POST /v1/generation/contexts/{contextId}/cancel": "cancelGenerationContext",
  "POST /v1/generation/batches": "createGenerationBatch",
  "GET /v1/generation/batches/{batchId}": "getGenerationBatch",
  "GET /v1/generation/workers": "listGenerationWorkers",
};

/** Operations a client calls without credentials, and those where a bearer token is optional. */
const PUBLIC_OPERATIONS = [
  "getHealth",
  "getReadiness",
  "getMetrics",
  "downloadBlob",
  "startAnonymousSession",
  "refreshTokens",
].sort();
const OPTIONAL_BEARER_OPERATIONS = ["followChanges", "login", "register"];

/** Response properties that hold one of a fixed set of values: the document must say which. */
const ENUMERATED_PROPERTIES = new Set([
  "kind",
  "storage",
  "suggestionState",
  "op",
  "status",
  "role",
  "authenticatedBy",
  "scopes",
  "profile",
]);

function operations(doc: Document) {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      path,
      method,
      operation: item[method] as Operation,
      name: `${method.toUpperCase()} ${path}`,
    })),
  );
}

/** The codes an error response's schema allows, or null when it is not the error shape. */
function errorCodes(response: Response): string[] | null {
  const code = response.content?.["application/json"]?.schema?.properties?.error?.properties?.code;
  return code?.enum ? (code.enum as string[]) : null;
}

function declares(operation: Operation, status: number, code: string): boolean {
  const response = operation.responses[String(status)];
  return response !== undefined && (errorCodes(response)?.includes(code) ?? false);
}

describe("errorResponses", () => {
  it("groups codes by their catalog status, each status narrowed to exactly its codes", () => {
    const responses = errorResponses("validation_failed", "document_not_found", "malformed_json", "malformed_json");
    assert.deepEqual(Object.keys(responses), ["400", "404"]);
    const codes = (status: number) =>
      (responses[status] as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error
        .properties.code.enum;
    assert.deepEqual(codes(400), ["malformed_json", "validation_failed"]);
    assert.deepEqual(codes(404), ["document_not_found"]);
  });
});

describe("OpenAPI document", () => {
  let app: App;
  let dispose: () => Promise<void>;
  let doc: Document;
  before(async () => {
    const opened = await openTestPlatform({ BODY_LIMIT_BYTES: "4096" });
    dispose = opened.dispose;
    await createMigrator(opened.platform.database, modules).up();
    app = await buildServer(opened.platform, modules);
    const res = await app.inject("/openapi.json");
    assert.equal(res.statusCode, 200);
    doc = res.json();
  });
  after(async () => {
    await app.close();
    await dispose();
  });

  it("names a bearer scheme, and every operation declares its security", () => {
    assert.deepEqual(doc.components.securitySchemes, {
      bearer: { ...doc.components.securitySchemes.bearer, type: "http", scheme: "bearer" },
    });
    const open: string[] = [];
    const optional: string[] = [];
    for (const { name, operation } of operations(doc)) {
      assert.ok(Array.isArray(operation.security), `${name} declares security`);
      for (const requirement of operation.security) {
        for (const scheme of Object.keys(requirement)) assert.equal(scheme, "bearer", name);
      }
      const id = operation.operationId as string;
      if (operation.security.length === 0) open.push(id);
      else if (operation.security.some((r) => Object.keys(r).length === 0)) optional.push(id);
      else assert.deepEqual(operation.security, [{ bearer: [] }], name);
    }
    assert.deepEqual(open.sort(), PUBLIC_OPERATIONS);
    assert.deepEqual(optional.sort(), OPTIONAL_BEARER_OPERATIONS);
  });

  it("gives every operation a unique, stable camelCase operationId and a summary", () => {
    const ids = new Set<string>();
    for (const { name, operation } of operations(doc)) {
      assert.match(operation.operationId ?? "", /^[a-z][a-zA-Z]+$/, `${name} has a camelCase operationId`);
      assert.ok(!ids.has(operation.operationId as string), `${operation.operationId} is used once`);
      ids.add(operation.operationId as string);
      assert.ok((operation.summary ?? "").length > 3, `${name} has a summary`);
    }
    const actual = Object.fromEntries(
      operations(doc).map(({ name, operation }) => [name, operation.operationId as string]),
    );
    assert.deepEqual(actual, OPERATION_IDS, "released operationIds stay as they are");
  });

  it("describes every response, with at least one 2xx per operation (101 for the WebSocket upgrade)", () => {
    for (const { name, operation } of operations(doc)) {
      const statuses = Object.keys(operation.responses);
      assert.ok(
        statuses.some((s) => /^2/.test(s) || (s === "101" && operation.operationId === "followChanges")),
        `${name} has a 2xx`,
      );
      for (const [status, response] of Object.entries(operation.responses)) {
        assert.ok((response.description ?? "").length > 3, `${name} ${status} has a description`);
        assert.notEqual(response.description, "Default Response", `${name} ${status}`);
      }
    }
  });

  it("gives every error response the error shape, with catalog codes of that status", () => {
    for (const { name, operation } of operations(doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        if (Number(status) < 400) continue;
        // Readiness answers 503 with its dependency report, not an error.
        if (operation.operationId === "getReadiness" && status === "503") continue;
        const codes = errorCodes(response);
        assert.ok(codes && codes.length > 0, `${name} ${status} lists its codes`);
        for (const code of codes) {
          assert.ok(isErrorCode(code), `${name} ${status}: ${code} is a catalog code`);
          assert.equal(
            statusOf(code as ErrorCode),
            Number(status),
            `${name}: ${code} is a ${statusOf(code as ErrorCode)}`,
          );
        }
        assert.deepEqual(codes, [...codes].sort(), `${name} ${status} lists codes in order`);
      }
    }
  });

  it("declares what every /v1 route shares: token checks, rate limits, outages; and validation where it takes input", () => {
    for (const { name, path, operation } of operations(doc)) {
      if (!path.startsWith("/v1/")) continue;
      for (const code of ["token_invalid", "token_expired", "session_revoked", "anonymous_session_expired"]) {
        assert.ok(declares(operation, 401, code), `${name} declares ${code}`);
      }
      assert.ok(declares(operation, 429, "rate_limited"), `${name} declares rate_limited`);
      assert.ok(declares(operation, 503, "dependency_unavailable"), `${name} declares dependency_unavailable`);
      if (operation.requestBody || operation.parameters?.length) {
        assert.ok(declares(operation, 400, "validation_failed"), `${name} declares validation_failed`);
      }
      const required = operation.security?.length === 1 && Object.keys(operation.security[0] ?? {}).length > 0;
      if (required) assert.ok(declares(operation, 401, "authentication_required"), `${name} needs a caller`);
    }
  });

  it("leaves out of `required` the query parameters that have a default, such as limit", () => {
    let lists = 0;
    for (const { name, operation } of operations(doc)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== "query" || parameter.schema?.default === undefined) continue;
        assert.equal(parameter.required, false, `${name} ?${parameter.name} is optional`);
        if (parameter.name === "limit") lists++;
      }
    }
    assert.equal(lists, 23, "every list route takes ?limit=");
  });

  it("keeps enumerated values in responses instead of plain strings", () => {
    const loose: string[] = [];
    const walk = (schema: Schema | undefined, where: string) => {
      if (!schema) return;
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        if (ENUMERATED_PROPERTIES.has(key) && where.includes(" 2") && !enumerated(property)) {
          loose.push(`${where}.${key}`);
        }
        walk(property, `${where}.${key}`);
      }
      walk(schema.items, where);
      for (const branch of [...(schema.anyOf ?? []), ...(schema.allOf ?? [])]) walk(branch, where);
    };
    const enumerated = (schema: Schema): boolean =>
      schema.enum !== undefined ||
      (schema.items !== undefined && enumerated(schema.items)) ||
      ((schema.anyOf?.some((branch) => branch.type !== "null") ?? false) &&
        (schema.anyOf ?? []).every((branch) => branch.type === "null" || enumerated(branch)));
    for (const { name, operation } of operations(doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        walk(response.content?.["application/json"]?.schema, `${name} ${status}`);
      }
    }
    assert.deepEqual(loose, []);
    const version = doc.paths["/v1/documents/{documentId}/versions/{number}"]?.get?.responses["200"];
    const props = version?.content?.["application/json"]?.schema?.allOf?.[0]?.properties;
    assert.deepEqual(props?.kind?.enum, ["major", "minor", "ai_suggestion"]);
    assert.deepEqual(props?.storage?.enum, ["keyframe", "delta", "snapshot"]);
  });

  it("documents streamed suggestions as server-sent events as well as JSON, and downloads as content", () => {
    const suggest = doc.paths["/v1/documents/{documentId}/suggestions"]?.post;
    assert.ok(suggest?.responses["200"]?.content?.["text/event-stream"]);
    assert.ok(suggest?.responses["201"]?.content?.["application/json"]);
    const download = doc.paths["/v1/blob-downloads"]?.get;
    assert.ok(download?.responses["200"]?.content?.["application/octet-stream"]);
  });

  it("declares every status and code the routes answer to malformed, unauthenticated and unauthorised requests", async () => {
    const call = client(app);
    const anonymous = (await call("POST", "/v1/auth/anonymous")).body.accessToken as string;
    const registered = await call("POST", "/v1/auth/register", {
      body: { email: `${randomUUID()}@example.com`, password: "correct horse battery staple", name: "Probe" },
    });
    const user = registered.body.accessToken as string;
    const readKey = (await call("POST", "/v1/api-keys", { token: user, body: { name: "read", scopes: ["read"] } })).body
      .key as string;
    assert.ok(anonymous && user && readKey, "the probe's credentials");

    // Ending the session goes last: the other probes need it open.
    const all = operations(doc).sort(
      (a, b) => Number(a.operation.operationId === "logout") - Number(b.operation.operationId === "logout"),
    );
    const undeclared: string[] = [];
    for (const { name, path, method, operation } of all) {
      if (!path.startsWith("/v1/")) continue;
      const url = path.replace("{number}", "1").replace(/\{[^}]+\}/g, () => randomUUID());
      const verb = method.toUpperCase() as "GET" | "POST" | "PATCH" | "DELETE";
      const hasBody = verb !== "GET";
      const probes: { label: string; token?: string; payload?: string; contentType?: string }[] = [
        { label: "no credentials" },
        { label: "a malformed token", token: "not-a-token" },
        { label: "an anonymous session", token: anonymous },
        { label: "a read-only API key", token: readKey },
        { label: "a user", token: user },
      ];
      if (hasBody) {
        probes.push(
          { label: "broken JSON", token: user, payload: '{"a":', contentType: "application/json" },
          { label: "an empty JSON body", token: user, payload: "", contentType: "application/json" },
          { label: "XML", token: user, payload: "<a/>", contentType: "application/xml" },
          {
            label: "a body over the limit",
            token: user,
            payload: JSON.stringify({ a: "x".repeat(5000) }),
            contentType: "application/json",
          },
        );
      }
      for (const probe of probes) {
        const res = await app.inject({
          method: verb,
          url,
          headers: {
            ...(probe.token ? { authorization: `Bearer ${probe.token}` } : {}),
            ...(probe.contentType ? { "content-type": probe.contentType } : {}),
          },
          ...(probe.payload !== undefined ? { payload: probe.payload } : hasBody ? { payload: {} } : {}),
        });
        const status = res.statusCode;
        if (status < 400) {
          if (!operation.responses[String(status)]) undeclared.push(`${name} with ${probe.label}: ${status}`);
          continue;
        }
        const code = res.json().error?.code as string;
        if (!declares(operation, status, code)) undeclared.push(`${name} with ${probe.label}: ${status} ${code}`);
      }
    }
    assert.deepEqual(undeclared, []);
  });

  it("has a description for every catalog code", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) assert.ok(entry.description.endsWith("."), code);
  });
});
