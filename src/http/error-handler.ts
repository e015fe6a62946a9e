import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { AiNotConfiguredError, AiProviderBusyError, AiProviderError } from "../platform/ai/errors.ts";
import { BlobNotFoundError, BlobUnavailableError } from "../platform/blobs/blob-store.ts";
import {
  DatabaseUnavailableError,
  isConnectionFailure,
  isStatementTimeout,
  sqlState,
} from "../platform/database/sqlstate.ts";
import { AppError, type FieldProblem } from "../platform/errors/app-error.ts";
import { errors } from "../platform/errors/catalog.ts";
import { KvUnavailableError } from "../platform/kv/kv-store.ts";
import { NOT_BLANK } from "../platform/schemas.ts";

/**
 * Turns anything thrown while serving a request into the one error shape,
 * `{ error: { code, message, details } }`. Known failures keep their 4xx or
 * 503; everything else is logged with its stack and answered as a bare 500.
 */
export function toAppError(error: unknown, bodyLimit: number, contentType?: string): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validationContext?: string };
  if (Array.isArray(fastifyError.validation)) {
    return errors.validationFailed(fieldProblems(fastifyError.validation, fastifyError.validationContext ?? "body"));
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return errors.payloadTooLarge(bodyLimit);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      // The media type alone, without parameters such as charset or boundary.
      return errors.unsupportedMediaType(contentType?.split(";")[0]?.trim() || undefined);
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return errors.emptyBody();
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return errors.malformedJson(fastifyError.message);
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) return errors.malformedJson(error.message);
  if (error instanceof BlobNotFoundError) return errors.blobNotFound();
  if (error instanceof AiNotConfiguredError) return errors.aiNotConfigured();
  if (error instanceof AiProviderBusyError) return errors.aiProviderBusy(error.retryAfterMs, error);
  if (error instanceof AiProviderError) return errors.aiProviderUnavailable(error);
  if (error instanceof KvUnavailableError) return errors.dependencyUnavailable("kv", 2, error);
  if (error instanceof BlobUnavailableError) return errors.dependencyUnavailable("blobs", 5, error);
  if (error instanceof DatabaseUnavailableError) {
    return errors.dependencyUnavailable("database", error.retryAfterSeconds, error);
  }
  if (sqlState(error) !== null) {
    if (isStatementTimeout(error)) return errors.queryTimeout(error);
    if (isConnectionFailure(error)) return errors.dependencyUnavailable("database", 5, error);
  }
  // Fastify's own client errors (a Content-Length that does not match the
  // body...) carry a 4xx; they are one code with one status, bad_request (400).
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) return errors.badRequest(fastifyError.message);
  return errors.internal();
}

export function errorHandler(bodyLimit: number) {
  return (error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const appError = toAppError(error, bodyLimit, request.headers["content-type"]);
    if (appError.statusCode >= 500) {
      request.log.error({ err: error, code: appError.code }, "request failed");
    } else {
      request.log.info({ code: appError.code }, "request refused");
    }
    if (appError.retryAfterSeconds !== undefined) reply.header("retry-after", String(appError.retryAfterSeconds));
    return reply.status(appError.statusCode).send({
      error: { code: appError.code, message: appError.message, details: appError.details },
    });
  };
}

interface AjvProblem {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

const KEYWORD_CODES: Record<string, string> = {
  required: "required",
  additionalProperties: "unknown_field",
  type: "type",
  format: "format",
  enum: "enum",
  const: "enum",
  minLength: "too_short",
  maxLength: "too_long",
  minimum: "too_small",
  exclusiveMinimum: "too_small",
  maximum: "too_large",
  exclusiveMaximum: "too_large",
  minItems: "too_few",
  maxItems: "too_many",
  pattern: "pattern",
};

/** One entry per bad field: `body.email`, `query.limit`, `body.items.0.name`. */
function fieldProblems(validation: readonly unknown[], context: string): FieldProblem[] {
  const prefix = context === "querystring" ? "query" : context;
  const seen = new Set<string>();
  const relevant = (validation as AjvProblem[]).filter((p) => p.keyword !== "anyOf" && p.keyword !== "oneOf");
  const problems: FieldProblem[] = [];
  for (const raw of relevant) {
    const path = raw.instancePath.split("/").filter(Boolean);
    if (raw.keyword === "required") path.push(String(raw.params.missingProperty));
    if (raw.keyword === "additionalProperties") path.push(String(raw.params.additionalProperty));
    const field = [prefix, ...path].join(".");
    const blank = raw.keyword === "pattern" && raw.params.pattern === NOT_BLANK;
    const code = blank ? "blank" : (KEYWORD_CODES[raw.keyword] ?? raw.keyword);
    // One problem per field: a union reports one failure per branch, and the
    // first (the closest match) is the one worth reading.
    if (seen.has(field)) continue;
    seen.add(field);
    problems.push({
      field,
      code,
      message:
        code === "unknown_field"
          ? "is not a field this request accepts"
          : blank
            ? "must not be blank"
            : (raw.message ?? "is not valid"),
    });
  }
  return problems;
}
