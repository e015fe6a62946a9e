import { type ErrorCode, type StatusOf, statusOf } from "./codes.ts";

/**
 * The one error type the HTTP layer renders. Every failure a client may see
 * is an AppError with a code from the closed set in codes.ts, whose status
 * comes from there too; anything else becomes a plain 500 `internal_error`
 * with no internals attached. Build them with the factories in catalog.ts.
 */
export interface FieldProblem {
  /** Where the problem is, e.g. `body.email` or `query.limit`. */
  field: string;
  /** A stable machine-readable reason, e.g. `required`, `type`, `unknown_field`. */
  code: string;
  message: string;
}

export interface AppErrorOptions {
  /** Seconds a client should wait before retrying; rendered as Retry-After. */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class AppError<C extends ErrorCode = ErrorCode> extends Error {
  readonly statusCode: StatusOf<C>;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: C,
    message: string,
    readonly details: Record<string, unknown> = {},
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.statusCode = statusOf(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
