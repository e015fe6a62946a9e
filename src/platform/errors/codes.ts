/**
 * Every error code Strata answers with, its HTTP status and what it means:
 * declared once, here. Codes are public API: once released, a code keeps
 * its status and its meaning (codes.test.ts pins each one). A code cannot be
 * made up at run time: `ErrorCode` is the closed union of these keys, and
 * AppError takes nothing else.
 */
export const ERROR_CODES = {
  // The request itself
  validation_failed: {
    status: 400,
    description: "A field of the request is not valid; `details.fields` names each one with its reason.",
  },
  malformed_json: { status: 400, description: "The body is not valid JSON." },
  empty_body: { status: 400, description: "The body is empty but the content type says JSON." },
  bad_request: { status: 400, description: "The HTTP request itself is malformed (e.g. a wrong Content-Length)." },
  invalid_blob_key: { status: 400, description: "A blob key is not one Strata accepts." },
  payload_too_large: { status: 413, description: "The body exceeds the server's limit (`details.limitBytes`)." },
  unsupported_media_type: { status: 415, description: "The body's content type is not accepted here (send JSON)." },
  route_not_found: { status: 404, description: "No route answers this method and path." },
  upgrade_required: {
    status: 426,
    description: "The route speaks WebSocket only: send the request as a WebSocket upgrade.",
  },

  // Identity: who is calling
  authentication_required: { status: 401, description: "The route needs an `Authorization: Bearer` token." },
  token_invalid: { status: 401, description: "The bearer token is not valid." },
  token_expired: { status: 401, description: "The access token has expired; refresh it." },
  session_revoked: { status: 401, description: "The session has ended (logout or token reuse); log in again." },
  anonymous_session_expired: {
    status: 401,
    description: "The anonymous session has expired or was claimed by an account; start a new one.",
  },
  refresh_token_invalid: { status: 401, description: "The refresh token is not valid." },
  refresh_token_expired: { status: 401, description: "The refresh token has expired; log in again." },
  refresh_token_reused: {
    status: 401,
    description: "The refresh token was already used; its session has been ended to protect the account.",
  },
  invalid_credentials: { status: 401, description: "The email or password is not correct." },

  // Identity: what the caller may do
  account_disabled: { status: 403, description: "The account is not active." },
  account_required: { status: 403, description: "The action needs an account; an anonymous session cannot do it." },
  insufficient_role: {
    status: 403,
    description: "The caller's role in the organization is too low (`details.needed`).",
  },
  insufficient_scope: {
    status: 403,
    description: "The API key lacks a scope the action needs, or the action is for a person's own session.",
  },
  email_taken: { status: 409, description: "An account with this email already exists." },
  last_owner: { status: 409, description: "An organization must keep at least one owner." },
  personal_organization: { status: 409, description: "A personal organization has exactly one member." },
  already_member: { status: 409, description: "The user is already a member of the organization." },
  ownership_transfer_failed: {
    status: 503,
    description: "Moving the anonymous session's data to the account failed; nothing was changed, retry.",
  },

  // Resources that do not exist, or are not the caller's (never 403: ids cannot be probed)
  organization_not_found: { status: 404, description: "No such organization among the caller's." },
  user_not_found: { status: 404, description: "No such active user." },
  member_not_found: { status: 404, description: "No such member of the organization." },
  api_key_not_found: { status: 404, description: "No such API key among the caller's." },
  document_not_found: { status: 404, description: "No such document among the caller's." },
  version_not_found: { status: 404, description: "No such version of the document (pruned ones included)." },
  suggestion_not_found: { status: 404, description: "No such suggestion among the caller's." },
  prompt_template_not_found: { status: 404, description: "No such prompt template the caller may use." },
  blob_not_found: { status: 404, description: "No blob is stored under the key." },
  template_not_found: { status: 404, description: "No such generation template in the organization." },
  component_not_found: {
    status: 404,
    description: "No such generation component in the organization (`details.componentId`).",
  },
  pipeline_not_found: { status: 404, description: "No such generation pipeline in the organization." },
  context_not_found: { status: 404, description: "No such generation context in the organization." },
  batch_not_found: { status: 404, description: "No such generation batch in the organization." },
  journal_entry_not_found: { status: 404, description: "No such journal entry among the caller's." },
  topic_not_found: { status: 404, description: "No such topic the caller may use (`details.topicId`)." },
  chat_not_found: { status: 404, description: "No such chat among the caller's." },
  file_not_found: { status: 404, description: "No such file among the caller's." },

  // Writing
  restore_window_passed: { status: 410, description: "The document was deleted too long ago to restore." },
  suggestion_already_decided: { status: 409, description: "The suggestion was already accepted or rejected." },

  // Generation
  template_key_taken: {
    status: 409,
    description: "The organization already has a template with this key; add a version to it instead.",
  },
  component_inactive: {
    status: 409,
    description: "A component the pipeline names is not active (`details.componentId`).",
  },
  pipeline_inactive: { status: 409, description: "The pipeline is not active." },
  context_not_cancellable: {
    status: 409,
    description:
      "The context has already ended (`details.status`: completed, failed or cancelled); only a pending or processing one can be cancelled.",
  },
  model_not_allowed: {
    status: 403,
    description: "The model is not in the organization's allowed models (`details.model`, `details.allowedModels`).",
  },
  batch_too_large: {
    status: 400,
    description: "The batch has more contexts than the organization's maximum (`details.maxBatchSize`).",
  },
  context_quota_exceeded: {
    status: 429,
    description:
      "The organization has created its maximum of contexts today (UTC, `details.maxContextsPerDay`); retry after `Retry-After` seconds.",
  },

  // Jobs
  invalid_cron_expression: {
    status: 400,
    description: "A recurring job's cron expression does not parse (`details.expression`).",
  },

  // Chat
  chat_reply_in_progress: {
    status: 409,
    description: "The chat's previous reply is still being written; send again once it has ended.",
  },
  file_type_not_accepted: {
    status: 415,
    description:
      "The file's content is not a type chat files take (text, Markdown, HTML, PDF), or contradicts the type it was " +
      "sent as (`details.detected`, `details.declared`).",
  },
  nothing_to_regenerate: { status: 409, description: "The chat has no message of the user's to answer again." },

  // Journal
  topic_name_taken: { status: 409, description: "The caller already has a topic with this name (`details.topicId`)." },

  // Knowledge
  knowledge_entry_not_found: {
    status: 404,
    description: "No such rule, practice or template among the system's and the caller's organization's.",
  },
  knowledge_key_taken: {
    status: 409,
    description: "The organization already has an entry of this kind with this identifier (`details.field`).",
  },
  knowledge_entry_read_only: {
    status: 403,
    description: "A system entry: everyone reads it, only `strata seed` writes it.",
  },

  // Blob download links
  signature_invalid: { status: 403, description: "The download link's signature does not match." },
  signature_expired: { status: 410, description: "The download link has expired." },

  // Limits and outages (these carry Retry-After)
  rate_limited: { status: 429, description: "Too many requests; retry after `Retry-After` seconds." },
  dependency_unavailable: {
    status: 503,
    description: "A dependency (`details.dependency`: database, kv or blobs) is unavailable; retry shortly.",
  },
  query_timeout: { status: 503, description: "The database did not answer in time; retry shortly." },
  compute_busy: { status: 503, description: "Every compute thread is busy; retry shortly." },
  ai_provider_not_configured: { status: 503, description: "No AI provider is configured on this server." },
  ai_provider_unavailable: { status: 503, description: "The AI provider did not answer; retry shortly." },
  ai_provider_busy: {
    status: 503,
    description: "The AI provider is rate limiting Strata's calls; retry after `Retry-After` seconds.",
  },
  pgvector_not_installed: {
    status: 503,
    description:
      "Vector search needs the pgvector extension, which this Postgres server lacks; everything else works (`/ready` says so).",
  },
  ai_empty_response: { status: 502, description: "The AI provider answered with no text; nothing was stored." },

  internal_error: { status: 500, description: "An unexpected failure; nothing internal is disclosed." },
} as const satisfies Record<string, { status: ErrorStatus; description: string }>;

/** The statuses an error may carry. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 410 | 413 | 415 | 426 | 429 | 500 | 502 | 503;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The status a code is answered with. */
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CODES)[C]["status"];

export function statusOf<C extends ErrorCode>(code: C): StatusOf<C> {
  return ERROR_CODES[code].status;
}

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}
