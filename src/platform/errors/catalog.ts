import { AppError, type FieldProblem } from "./app-error.ts";

/**
 * The error catalog: one factory per code of codes.ts, each writing the
 * code as a literal (so a grep for a code finds where it is raised) and the
 * message and details that go with it. Construct AppError here and nowhere
 * else (codes.test.ts checks), so the list of what Strata can answer stays
 * readable in one place.
 */
export const errors = {
  // the request itself
  validationFailed: (fields: FieldProblem[]) => new AppError("validation_failed", describeFields(fields), { fields }),
  malformedJson: (message: string) => new AppError("malformed_json", `request body is not valid JSON: ${message}`),
  emptyBody: () => new AppError("empty_body", "request body is empty but the route expects JSON"),
  badRequest: (message: string) => new AppError("bad_request", message),
  unsupportedMediaType: (contentType: string | undefined) =>
    new AppError("unsupported_media_type", `content type ${contentType ?? "(none)"} is not accepted here`, {
      contentType: contentType ?? null,
    }),
  payloadTooLarge: (limitBytes: number) =>
    new AppError("payload_too_large", `request body exceeds the limit of ${limitBytes} bytes`, { limitBytes }),
  routeNotFound: (method: string, url: string) =>
    new AppError("route_not_found", `no route for ${method} ${url}`, { method, path: url }),
  invalidBlobKey: (key: string, reason: string) =>
    new AppError("invalid_blob_key", `blob key is not valid: ${reason}`, { field: "key", key, reason }),
  upgradeRequired: () => new AppError("upgrade_required", "this route speaks WebSocket only; send an upgrade request"),
  internal: () => new AppError("internal_error", "an unexpected error occurred"),

  // outages and load
  dependencyUnavailable: (dependency: "database" | "kv" | "blobs", retryAfterSeconds = 5, cause?: unknown) =>
    new AppError(
      "dependency_unavailable",
      `${dependency} is unavailable; try again shortly`,
      { dependency },
      {
        retryAfterSeconds,
        cause,
      },
    ),
  queryTimeout: (cause?: unknown) =>
    new AppError(
      "query_timeout",
      "the database did not answer in time; try again shortly",
      {},
      { retryAfterSeconds: 2, cause },
    ),
  computeBusy: (retryAfterSeconds: number, reason: string) =>
    new AppError(
      "compute_busy",
      "the server is busy with other heavy work; try again shortly",
      { reason },
      {
        retryAfterSeconds,
      },
    ),
  rateLimited: (retryAfterSeconds: number, limitClass: string) =>
    new AppError(
      "rate_limited",
      `too many requests; retry in ${retryAfterSeconds} s`,
      { limitClass },
      {
        retryAfterSeconds,
      },
    ),

  // identity
  authenticationRequired: () =>
    new AppError("authentication_required", "this route needs an Authorization: Bearer token"),
  tokenInvalid: () => new AppError("token_invalid", "the access token is not valid"),
  tokenExpired: () => new AppError("token_expired", "the access token has expired; refresh it"),
  sessionRevoked: () => new AppError("session_revoked", "this session has ended; log in again"),
  anonymousSessionExpired: () =>
    new AppError("anonymous_session_expired", "the anonymous session has expired or was claimed; start a new one"),
  refreshTokenInvalid: () => new AppError("refresh_token_invalid", "the refresh token is not valid"),
  refreshTokenExpired: () => new AppError("refresh_token_expired", "the refresh token has expired; log in again"),
  refreshTokenReused: () =>
    new AppError(
      "refresh_token_reused",
      "this refresh token was already used; the session has been ended to protect the account",
    ),
  invalidCredentials: () => new AppError("invalid_credentials", "the email or password is not correct"),
  accountDisabled: () => new AppError("account_disabled", "this account is not active"),
  emailTaken: () =>
    new AppError("email_taken", "an account with this email already exists; log in instead", {
      field: "body.email",
    }),
  insufficientRole: (needed: string) =>
    new AppError("insufficient_role", `this action needs the ${needed} role in the organization`, { needed }),
  insufficientScope: (needed: string) =>
    new AppError("insufficient_scope", `this API key lacks the ${needed} scope`, { needed }),
  anonymousNotAllowed: () => new AppError("account_required", "this action needs an account; register or log in first"),
  lastOwner: () => new AppError("last_owner", "an organization must keep at least one owner"),
  personalOrganization: () =>
    new AppError(
      "personal_organization",
      "a personal organization has exactly one member; create an organization to work with others",
    ),
  alreadyMember: () => new AppError("already_member", "this user is already a member of the organization"),
  transferFailed: (cause?: unknown) =>
    new AppError(
      "ownership_transfer_failed",
      "moving the anonymous session's data failed; nothing was changed, try again",
      {},
      { retryAfterSeconds: 5, cause },
    ),

  // resources not found (or not the caller's)
  organizationNotFound: () => new AppError("organization_not_found", "organization not found"),
  userNotFound: () => new AppError("user_not_found", "user not found"),
  memberNotFound: () => new AppError("member_not_found", "member not found"),
  apiKeyNotFound: () => new AppError("api_key_not_found", "api key not found"),
  documentNotFound: () => new AppError("document_not_found", "document not found"),
  versionNotFound: () => new AppError("version_not_found", "version not found"),
  suggestionNotFound: () => new AppError("suggestion_not_found", "suggestion not found"),
  promptTemplateNotFound: () => new AppError("prompt_template_not_found", "prompt template not found"),
  blobNotFound: () => new AppError("blob_not_found", "blob not found"),
  templateNotFound: () => new AppError("template_not_found", "template not found"),
  /** `field`: where a request named the component (`body.components.0.componentId`), when it did. */
  componentNotFound: (componentId: string, field?: string) =>
    new AppError("component_not_found", "component not found", { ...(field ? { field } : {}), componentId }),
  pipelineNotFound: () => new AppError("pipeline_not_found", "pipeline not found"),
  contextNotFound: () => new AppError("context_not_found", "context not found"),
  batchNotFound: () => new AppError("batch_not_found", "batch not found"),

  // writing
  restoreWindowPassed: () =>
    new AppError("restore_window_passed", "this document was deleted more than 30 days ago and cannot be restored"),
  suggestionAlreadyDecided: () =>
    new AppError("suggestion_already_decided", "this suggestion was already accepted or rejected"),

  // generation
  templateKeyTaken: (templateKey: string) =>
    new AppError("template_key_taken", `a template with key ${templateKey} already exists; add a version to it`, {
      field: "body.templateKey",
      templateKey,
    }),
  componentInactive: (componentId: string, field?: string) =>
    new AppError("component_inactive", "a component of the pipeline is not active", {
      ...(field ? { field } : {}),
      componentId,
    }),
  pipelineInactive: () => new AppError("pipeline_inactive", "the pipeline is not active"),
  contextNotCancellable: (status: string) =>
    new AppError(
      "context_not_cancellable",
      `the context is ${status}; only a pending or processing one can be cancelled`,
      {
        status,
      },
    ),
  /** `field`: where the request named the model (`body.config.model`), when it did. */
  modelNotAllowed: (model: string, allowedModels: string[], field?: string) =>
    new AppError("model_not_allowed", `the model ${model} is not allowed in this organization`, {
      ...(field ? { field } : {}),
      model,
      allowedModels,
    }),
  batchTooLarge: (size: number, maxBatchSize: number) =>
    new AppError("batch_too_large", `a batch may hold at most ${maxBatchSize} contexts, not ${size}`, {
      size,
      maxBatchSize,
    }),
  contextQuotaExceeded: (maxContextsPerDay: number, retryAfterSeconds: number) =>
    new AppError(
      "context_quota_exceeded",
      `the organization may create ${maxContextsPerDay} contexts a day; retry in ${retryAfterSeconds} s`,
      { maxContextsPerDay },
      { retryAfterSeconds },
    ),

  // jobs
  invalidCronExpression: (expression: string, reason: string) =>
    new AppError("invalid_cron_expression", `the cron expression does not parse: ${reason}`, { expression }),

  // blob download links
  signatureInvalid: () => new AppError("signature_invalid", "the download link's signature does not match"),
  signatureExpired: () => new AppError("signature_expired", "the download link has expired"),

  // AI providers
  aiNotConfigured: () =>
    new AppError(
      "ai_provider_not_configured",
      "no AI provider is configured on this server (AI_BASE_URL)",
      {},
      {
        retryAfterSeconds: 3600,
      },
    ),
  aiProviderUnavailable: (cause?: unknown) =>
    new AppError(
      "ai_provider_unavailable",
      "the AI provider did not answer; try again shortly",
      {},
      {
        retryAfterSeconds: 10,
        cause,
      },
    ),
  /** The provider's 429 outlasted the waits Strata allows it; its own Retry-After goes to the client. */
  aiProviderBusy: (retryAfterMs: number | null, cause?: unknown) =>
    new AppError(
      "ai_provider_busy",
      "the AI provider is rate limiting requests; try again after Retry-After",
      {},
      {
        retryAfterSeconds: retryAfterMs === null ? 10 : Math.max(1, Math.ceil(retryAfterMs / 1000)),
        cause,
      },
    ),
  // embeddings
  pgvectorNotInstalled: () =>
    new AppError(
      "pgvector_not_installed",
      "vector search needs the pgvector extension, which this Postgres server does not have",
      { extension: "vector" },
      { retryAfterSeconds: 3600 },
    ),

  // journal
  journalEntryNotFound: (entryId: string) =>
    new AppError("journal_entry_not_found", "no such journal entry", { entryId }),
  topicNotFound: (topicId: string) => new AppError("topic_not_found", "no such topic", { field: "topicId", topicId }),
  topicNameTaken: (name: string, topicId: string) =>
    new AppError("topic_name_taken", `a topic named "${name}" already exists`, { field: "name", topicId }),

  // chat
  chatNotFound: (chatId: string) => new AppError("chat_not_found", "no such chat", { chatId }),
  fileNotFound: (fileId: string) => new AppError("file_not_found", "no such file", { fileId }),
  fileTypeNotAccepted: (reason: "unsupported" | "mismatch", detected: string | null, declared: string | null) =>
    new AppError(
      "file_type_not_accepted",
      reason === "mismatch"
        ? `the file's content (${detected}) is not the type it was sent as (${declared})`
        : "the file is not text, Markdown, HTML or PDF",
      { field: "file", reason, detected, declared },
    ),
  chatReplyInProgress: (chatId: string) =>
    new AppError("chat_reply_in_progress", "this chat's previous reply is still being written", { chatId }),
  nothingToRegenerate: (chatId: string) =>
    new AppError("nothing_to_regenerate", "this chat has no message of yours to answer again", { chatId }),

  knowledgeEntryNotFound: (kind: string, id: string) =>
    new AppError("knowledge_entry_not_found", `no such ${kind}`, { kind, id }),
  knowledgeKeyTaken: (kind: string, field: string, key: string) =>
    new AppError("knowledge_key_taken", `the organization already has a ${kind} called ${key}`, {
      kind,
      field: `body.${field}`,
      key,
    }),
  knowledgeEntryReadOnly: (kind: string, id: string) =>
    new AppError("knowledge_entry_read_only", `this ${kind} is a system entry and cannot be changed`, { kind, id }),

  /** The same error with more details (a chat reply's stored state beside the provider failure that cut it short). */
  withDetails: (error: AppError, extra: Record<string, unknown>) =>
    new AppError(
      error.code,
      error.message,
      { ...error.details, ...extra },
      { retryAfterSeconds: error.retryAfterSeconds, cause: error },
    ),

  aiEmptyResponse: () => new AppError("ai_empty_response", "the AI provider answered with no text; nothing was stored"),
} as const;

function describeFields(fields: FieldProblem[]): string {
  if (fields.length === 0) return "request is not valid";
  const listed = fields.slice(0, 5).map((f) => `${f.field}: ${f.message}`);
  const more = fields.length > 5 ? ` (and ${fields.length - 5} more)` : "";
  return `request is not valid: ${listed.join("; ")}${more}`;
}
