/**
 * The one error type the HTTP layer renders. Every failure a client may see
 * is an AppError with a stable snake_case code; anything else becomes a plain
 * 500 `internal_error` with no internals attached.
 */
export interface FieldProblem {
  /** Where the problem is, e.g. `body.email` or `query.limit`. */
  field: string;
  /** A stable machine-readable reason, e.g. `required`, `type`, `unknown_field`. */
  code: string;
  message: string;
}

export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** Seconds a client should wait before retrying; rendered as Retry-After. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "AppError";
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
