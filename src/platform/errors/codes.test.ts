import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { AppError } from "./app-error.ts";
import { errors } from "./catalog.ts";
import { ERROR_CODES, isErrorCode, statusOf } from "./codes.ts";

/**
 * Codes are stable once released: this table is written out by hand, so a
 * code that changes status, disappears or appears without being added here
 * fails the suite. Change a row only for a code that has never shipped.
 */
const RELEASED: Record<string, number> = {
  validation_failed: 400,
  malformed_json: 400,
  empty_body: 400,
  bad_request: 400,
  invalid_blob_key: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  route_not_found: 404,
  authentication_required: 401,
  token_invalid: 401,
  token_expired: 401,
  session_revoked: 401,
  anonymous_session_expired: 401,
  refresh_token_invalid: 401,
  refresh_token_expired: 401,
  refresh_token_reused: 401,
  invalid_credentials: 401,
  account_disabled: 403,
  account_required: 403,
  insufficient_role: 403,
  insufficient_scope: 403,
  email_taken: 409,
  last_owner: 409,
  personal_organization: 409,
  already_member: 409,
  ownership_transfer_failed: 503,
  organization_not_found: 404,
  user_not_found: 404,
  member_not_found: 404,
  api_key_not_found: 404,
  document_not_found: 404,
  version_not_found: 404,
  suggestion_not_found: 404,
  prompt_template_not_found: 404,
  blob_not_found: 404,
  template_not_found: 404,
  component_not_found: 404,
  pipeline_not_found: 404,
  context_not_found: 404,
  batch_not_found: 404,
  journal_entry_not_found: 404,
  topic_not_found: 404,
  topic_name_taken: 409,
  chat_not_found: 404,
  file_not_found: 404,
  file_type_not_accepted: 415,
  chat_reply_in_progress: 409,
  nothing_to_regenerate: 409,
  upgrade_required: 426,
  knowledge_entry_not_found: 404,
  knowledge_key_taken: 409,
  knowledge_entry_read_only: 403,
  restore_window_passed: 410,
  suggestion_already_decided: 409,
  template_key_taken: 409,
  component_inactive: 409,
  pipeline_inactive: 409,
  context_not_cancellable: 409,
  model_not_allowed: 403,
  batch_too_large: 400,
  context_quota_exceeded: 429,
  invalid_cron_expression: 400,
  signature_invalid: 403,
  signature_expired: 410,
  rate_limited: 429,
  dependency_unavailable: 503,
  query_timeout: 503,
  compute_busy: 503,
  ai_provider_not_configured: 503,
  ai_provider_unavailable: 503,
  ai_provider_busy: 503,
  pgvector_not_installed: 503,
  ai_empty_response: 502,
  internal_error: 500,
};

/** Arguments for each factory that takes some; the rest take none. */
const ARGUMENTS: Partial<Record<keyof typeof errors, unknown[]>> = {
  validationFailed: [[{ field: "body.x", code: "type", message: "must be a string" }]],
  malformedJson: ["Unexpected end of JSON input"],
  badRequest: ["Request body size did not match Content-Length"],
  unsupportedMediaType: ["application/xml"],
  payloadTooLarge: [1024],
  withDetails: [errors.aiProviderUnavailable(), { reply: { status: "failed" } }],
  fileTypeNotAccepted: ["mismatch", "application/pdf", "text/plain"],
  routeNotFound: ["GET", "/v1/nothing"],
  invalidBlobKey: ["../x", "has a . or .. segment"],
  dependencyUnavailable: ["kv", 2],
  computeBusy: [1, "queue full"],
  rateLimited: [3, "api"],
  insufficientRole: ["admin"],
  insufficientScope: ["write"],
  componentNotFound: ["6f1c0d6e-0000-7000-8000-000000000001"],
  templateKeyTaken: ["tmpl_article"],
  componentInactive: ["6f1c0d6e-0000-7000-8000-000000000001"],
  modelNotAllowed: ["gpt-4", ["gpt-3.5-turbo"]],
  batchTooLarge: [51, 50],
  contextQuotaExceeded: [1000, 3600],
  aiProviderBusy: [20_000],
  contextNotCancellable: ["completed"],
  journalEntryNotFound: ["6f1c0d6e-0000-7000-8000-000000000002"],
  topicNotFound: ["6f1c0d6e-0000-7000-8000-000000000003"],
  knowledgeEntryNotFound: ["rule", "6f1c0d6e-0000-7000-8000-000000000004"],
  knowledgeKeyTaken: ["rule", "ruleId", "TS-STRICT-001"],
  knowledgeEntryReadOnly: ["rule", "6f1c0d6e-0000-7000-8000-000000000004"],
  topicNameTaken: ["sleep", "6f1c0d6e-0000-7000-8000-000000000003"],
};

describe("error codes", () => {
  it("keeps every released code at its status, and has no code the table does not pin", () => {
    const actual = Object.fromEntries(Object.entries(ERROR_CODES).map(([code, entry]) => [code, entry.status]));
    assert.deepEqual(actual, RELEASED);
  });

  it("names every code in snake_case and describes it", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      assert.match(code, /^[a-z]+(_[a-z]+)*$/, code);
      assert.ok(entry.description.length > 10, `${code} has a description`);
    }
  });

  it("builds every factory's error with a catalog code and that code's status", () => {
    const raised = new Set<string>();
    for (const [name, factory] of Object.entries(errors)) {
      const error = (factory as (...args: unknown[]) => unknown)(...(ARGUMENTS[name as keyof typeof errors] ?? []));
      assert.ok(error instanceof AppError, name);
      assert.ok(isErrorCode(error.code), `${name} raises ${error.code}, a catalog code`);
      assert.equal(error.statusCode, statusOf(error.code), name);
      assert.equal(error.statusCode, RELEASED[error.code], name);
      raised.add(error.code);
    }
    // A code no factory raises is dead weight in the document: every one has its factory.
    assert.deepEqual([...raised].sort(), Object.keys(ERROR_CODES).sort());
  });

  it("carries Retry-After on the outages a client should retry", () => {
    assert.equal(errors.rateLimited(7, "api").retryAfterSeconds, 7);
    assert.equal(errors.dependencyUnavailable("database").retryAfterSeconds, 5);
    assert.equal(errors.queryTimeout().retryAfterSeconds, 2);
    assert.equal(errors.aiProviderBusy(20_000).retryAfterSeconds, 20, "the provider's own Retry-After");
    assert.equal(errors.aiProviderBusy(1).retryAfterSeconds, 1, "never 0, which would invite an immediate retry");
    assert.equal(errors.documentNotFound().retryAfterSeconds, undefined);
  });

  it("is the only place an AppError is constructed", () => {
    const root = path.join(import.meta.dirname, "../..");
    const offenders = readdirSync(root, { recursive: true })
      .map(String)
      .filter((file) => file.endsWith(".ts") && !file.endsWith(".test.ts"))
      .filter((file) => path.join(root, file) !== path.join(import.meta.dirname, "catalog.ts"))
      .filter((file) => /new AppError\b/.test(readFileSync(path.join(root, file), "utf8")));
    assert.deepEqual(offenders, [], "construct errors through the factories in catalog.ts");
  });
});
