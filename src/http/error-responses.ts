import { type TSchema, Type } from "typebox";
import { ERROR_CODES, type ErrorCode, type ErrorStatus, statusOf } from "../platform/errors/codes.ts";

/**
 * The error half of each route's `response` schema. A route names every code
 * it can answer; `errorResponses` groups them by their status (codes.ts) and
 * gives each status the one error shape with `code` narrowed to exactly
 * those codes, so a generated client types each error precisely. The groups
 * below are what every route of a kind shares; the route adds its own.
 */

/**
 * Any /v1 route: a bearer token, when one is sent, is checked on every route
 * (principal.ts), and admission (rate-limit.ts) refuses an ended session,
 * an empty rate-limit bucket and, for classes that fail closed, an
 * unavailable key-value store. Both read the database. The text check
 * (text-input.ts) refuses a NUL or a lone surrogate in any parameter, read
 * by the route or not, and a router-refused URL is a bad request.
 */
export const READ_ROUTE = [
  "validation_failed",
  "bad_request",
  "token_invalid",
  "token_expired",
  "anonymous_session_expired",
  "session_revoked",
  "rate_limited",
  "dependency_unavailable",
  "query_timeout",
] as const satisfies readonly ErrorCode[];

/**
 * A /v1 route whose method carries a body (POST, PATCH, DELETE): Fastify
 * parses one when it is sent, whether or not the route reads it, and an API
 * key needs its write scope (principal.ts).
 */
export const WRITE_ROUTE = [
  ...READ_ROUTE,
  "insufficient_scope",
  "malformed_json",
  "empty_body",
  "payload_too_large",
  "unsupported_media_type",
] as const satisfies readonly ErrorCode[];

/** requirePrincipal: any caller, anonymous sessions included. */
export const NEEDS_CALLER = ["authentication_required"] as const satisfies readonly ErrorCode[];

/** requireAccount: a user's token or an API key. */
export const NEEDS_ACCOUNT = ["authentication_required", "account_required"] as const satisfies readonly ErrorCode[];

/** requireAccount with `admin`, and requireUser (a person's own session, not an API key). */
export const NEEDS_ADMIN_OR_USER = [...NEEDS_ACCOUNT, "insufficient_scope"] as const satisfies readonly ErrorCode[];

const STATUS_TITLES: Record<ErrorStatus, string> = {
  400: "The request is not valid",
  401: "The caller is not authenticated",
  403: "The caller may not do this",
  404: "Not found, or not the caller's",
  409: "Conflicts with the current state",
  410: "Gone",
  413: "The body is too large",
  415: "The body's content type is not accepted",
  426: "Send this request as a WebSocket upgrade",
  429: "Too many requests",
  500: "An unexpected failure",
  502: "The AI provider's answer could not be used",
  503: "Temporarily unavailable",
};

/** Statuses a client should retry after waiting; the error handler sets Retry-After on them. */
const RETRIED: ReadonlySet<ErrorStatus> = new Set([429, 503]);

/** Response entries, by status, for every code a route can answer. */
export function errorResponses(...codes: readonly ErrorCode[]): Record<number, TSchema> {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = statusOf(code);
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const statuses = [...byStatus.keys()].sort((a, b) => a - b);
  return Object.fromEntries(statuses.map((status) => [status, errorSchema(status, byStatus.get(status) ?? [])]));
}

function errorSchema(status: ErrorStatus, codes: ErrorCode[]): TSchema {
  const sorted = [...codes].sort();
  const listed = sorted.map((code) => `\`${code}\`: ${ERROR_CODES[code].description}`).join("\n- ");
  return Type.Object(
    {
      error: Type.Object({
        code: Type.Unsafe<ErrorCode>({
          type: "string",
          enum: sorted,
          description: "Stable snake_case code: match on this, not on the message.",
        }),
        message: Type.String({ description: "For people; wording may change." }),
        details: Type.Record(Type.String(), Type.Unknown(), {
          description: "Facts about this error, such as `fields` for validation_failed.",
        }),
      }),
    },
    {
      // The response's description in the document (@fastify/swagger moves it out of the schema).
      "x-response-description": `${STATUS_TITLES[status]}.\n\n- ${listed}`,
      ...(RETRIED.has(status)
        ? {
            headers: {
              "retry-after": Type.Integer({ minimum: 0, description: "Seconds to wait before retrying." }),
            },
          }
        : {}),
    },
  );
}
