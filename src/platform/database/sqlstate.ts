/**
 * Classifies database failures by SQLSTATE (and, for failures that never
 * reached the server, by the operating system's error code), never by the
 * text of the message, which varies with locale and version.
 */

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Socket-level failures that mean the statement's fate is unknown or it never left. */
const TRANSPORT_ERRNOS = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);

export function sqlState(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && SQLSTATE.test(code) ? code : null;
}

/**
 * True when the connection itself failed: SQLSTATE class 08 (connection
 * exception), the server shutting down or starting up (57P01-57P03), or an
 * error with no SQLSTATE at all, which only the transport produces.
 */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  if (state === null) {
    const errno = (error as { code?: unknown } | null)?.code;
    return typeof errno !== "string" || TRANSPORT_ERRNOS.has(errno) || !SQLSTATE.test(errno);
  }
  return state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03";
}

/** Serialization failure or deadlock: the server rolled the transaction back, so running it again is safe. */
export function isTransactionConflict(error: unknown): boolean {
  const state = sqlState(error);
  return state === "40001" || state === "40P01";
}

/** query_canceled: raised when statement_timeout fires. */
export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === "57014";
}

/** Thrown in place of a transport failure, so callers can tell an outage from a bad query. */
export class DatabaseUnavailableError extends Error {
  constructor(
    cause: unknown,
    /** How long a client should wait: the circuit breaker knows when it will try again. */
    readonly retryAfterSeconds = 5,
  ) {
    super("the database connection failed", { cause });
    this.name = "DatabaseUnavailableError";
  }
}

/**
 * The database cannot serve right now: unreachable (or its breaker open),
 * or out of time. Unlike isConnectionFailure, meant for any error a request
 * meets: one without a SQLSTATE counts only with a transport errno.
 */
export function isDatabaseOutage(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (sqlState(error) !== null) return isConnectionFailure(error) || isStatementTimeout(error);
  const errno = (error as { code?: unknown } | null)?.code;
  return typeof errno === "string" && TRANSPORT_ERRNOS.has(errno);
}
