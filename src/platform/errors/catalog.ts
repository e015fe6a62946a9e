import { AppError, type FieldProblem } from "./app-error.ts";

/**
 * The error catalog. Codes are part of the public API: once released they
 * never change meaning. Add new factories here rather than constructing
 * AppError inline, so the full list stays readable in one place.
 */
export const errors = {
  validationFailed: (fields: FieldProblem[]) =>
    new AppError("validation_failed", 400, describeFields(fields), { fields }),
  malformedJson: (message: string) => new AppError("malformed_json", 400, `request body is not valid JSON: ${message}`),
  emptyBody: () => new AppError("empty_body", 400, "request body is empty but the route expects JSON"),
  unsupportedMediaType: (contentType: string | undefined) =>
    new AppError("unsupported_media_type", 415, `content type ${contentType ?? "(none)"} is not accepted here`, {
      contentType: contentType ?? null,
    }),
  payloadTooLarge: (limitBytes: number) =>
    new AppError("payload_too_large", 413, `request body exceeds the limit of ${limitBytes} bytes`, { limitBytes }),
  routeNotFound: (method: string, url: string) =>
    new AppError("route_not_found", 404, `no route for ${method} ${url}`, { method, path: url }),
  notFound: (resource: string) =>
    new AppError(`${resource}_not_found`, 404, `${resource.replace(/_/g, " ")} not found`),
  invalidBlobKey: (key: string, reason: string) =>
    new AppError("invalid_blob_key", 400, `blob key is not valid: ${reason}`, { field: "key", key, reason }),
  signatureInvalid: () => new AppError("signature_invalid", 403, "the download link's signature does not match"),
  signatureExpired: () => new AppError("signature_expired", 410, "the download link has expired"),
  dependencyUnavailable: (dependency: string, retryAfterSeconds = 5, cause?: unknown) =>
    new AppError(
      "dependency_unavailable",
      503,
      `${dependency} is unavailable; try again shortly`,
      { dependency },
      retryAfterSeconds,
      { cause },
    ),
  queryTimeout: (cause?: unknown) =>
    new AppError("query_timeout", 503, "the database did not answer in time; try again shortly", {}, 2, { cause }),
  internal: () => new AppError("internal_error", 500, "an unexpected error occurred"),
  computeBusy: (retryAfterSeconds: number, reason: string) =>
    new AppError(
      "compute_busy",
      503,
      "the server is busy with other heavy work; try again shortly",
      { reason },
      retryAfterSeconds,
    ),

  // identity
  authenticationRequired: () =>
    new AppError("authentication_required", 401, "this route needs an Authorization: Bearer token"),
  tokenInvalid: () => new AppError("token_invalid", 401, "the access token is not valid"),
  tokenExpired: () => new AppError("token_expired", 401, "the access token has expired; refresh it"),
  sessionRevoked: () => new AppError("session_revoked", 401, "this session has ended; log in again"),
  anonymousSessionExpired: () =>
    new AppError("anonymous_session_expired", 401, "the anonymous session has expired or was claimed; start a new one"),
  refreshTokenInvalid: () => new AppError("refresh_token_invalid", 401, "the refresh token is not valid"),
  refreshTokenExpired: () => new AppError("refresh_token_expired", 401, "the refresh token has expired; log in again"),
  refreshTokenReused: () =>
    new AppError(
      "refresh_token_reused",
      401,
      "this refresh token was already used; the session has been ended to protect the account",
    ),
  invalidCredentials: () => new AppError("invalid_credentials", 401, "the email or password is not correct"),
  accountDisabled: () => new AppError("account_disabled", 403, "this account is not active"),
  emailTaken: () =>
    new AppError("email_taken", 409, "an account with this email already exists; log in instead", {
      field: "body.email",
    }),
  insufficientRole: (needed: string) =>
    new AppError("insufficient_role", 403, `this action needs the ${needed} role in the organization`, { needed }),
  insufficientScope: (needed: string) =>
    new AppError("insufficient_scope", 403, `this API key lacks the ${needed} scope`, { needed }),
  anonymousNotAllowed: () =>
    new AppError("account_required", 403, "this action needs an account; register or log in first"),
  lastOwner: () => new AppError("last_owner", 409, "an organization must keep at least one owner"),
  personalOrganization: () =>
    new AppError(
      "personal_organization",
      409,
      "a personal organization has exactly one member; create an organization to work with others",
    ),
  alreadyMember: () => new AppError("already_member", 409, "this user is already a member of the organization"),
  transferFailed: (cause?: unknown) =>
    new AppError(
      "ownership_transfer_failed",
      503,
      "moving the anonymous session's data failed; nothing was changed, try again",
      {},
      5,
      { cause },
    ),

  // AI providers
  aiNotConfigured: () =>
    new AppError(
      "ai_provider_not_configured",
      503,
      "no AI provider is configured on this server (AI_BASE_URL)",
      {},
      3600,
    ),
  aiProviderUnavailable: (cause?: unknown) =>
    new AppError("ai_provider_unavailable", 503, "the AI provider did not answer; try again shortly", {}, 10, {
      cause,
    }),

  // rate limits
  rateLimited: (retryAfterSeconds: number, limitClass: string) =>
    new AppError(
      "rate_limited",
      429,
      `too many requests; retry in ${retryAfterSeconds} s`,
      { limitClass },
      retryAfterSeconds,
    ),
} as const;

function describeFields(fields: FieldProblem[]): string {
  if (fields.length === 0) return "request is not valid";
  const listed = fields.slice(0, 5).map((f) => `${f.field}: ${f.message}`);
  const more = fields.length > 5 ? ` (and ${fields.length - 5} more)` : "";
  return `request is not valid: ${listed.join("; ")}${more}`;
}
