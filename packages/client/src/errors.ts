import type { ErrorCode, ErrorDetails } from "./api-types.ts";

/**
 * The code of an error that did not come in Strata's error shape: a proxy's
 * HTML page, an empty 502, a stream that ended without its last event.
 */
export type ClientErrorCode = "unexpected_response";

/**
 * An error Strata answered: the HTTP status, the stable `code` (typed as the
 * codes the OpenAPI document declares), the message and details, and, for
 * 429 and 503, how long to wait before retrying.
 */
export class StrataError<Code extends string = ErrorCode | ClientErrorCode> extends Error {
  override readonly name = "StrataError";
  /** The HTTP status; for an `error` event inside a stream, the stream's own status (200). */
  readonly status: number;
  readonly code: Code;
  readonly details: ErrorDetails;
  /** Seconds to wait before retrying (the Retry-After header), or null when the server named none. */
  readonly retryAfter: number | null;
  /** The request's id (x-request-id), to find it in the server's logs. */
  readonly requestId: string | null;

  constructor(init: {
    status: number;
    code: Code;
    message: string;
    details?: ErrorDetails;
    retryAfter?: number | null;
    requestId?: string | null;
  }) {
    super(init.message);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details ?? ({} as ErrorDetails);
    this.retryAfter = init.retryAfter ?? null;
    this.requestId = init.requestId ?? null;
  }

  /**
   * The error a response carries, from its already-parsed body (what
   * openapi-fetch returns as `error`) or, when none is given, by reading it.
   */
  static async fromResponse(response: Response, body?: unknown): Promise<StrataError> {
    let parsed = body;
    if (parsed === undefined) {
      const text = await response.text().catch(() => "");
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    const meta = {
      status: response.status,
      retryAfter: parseRetryAfter(response.headers.get("retry-after")),
      requestId: response.headers.get("x-request-id"),
    };
    const error = errorShape(parsed);
    if (error) return new StrataError({ ...meta, ...error });
    return new StrataError({
      ...meta,
      code: "unexpected_response",
      message: `HTTP ${response.status}${typeof parsed === "string" && parsed ? `: ${parsed.slice(0, 200)}` : ""}`,
    });
  }
}

/** True for a StrataError; given codes, only for those, and `code` narrows to them. */
export function isStrataError(error: unknown): error is StrataError;
export function isStrataError<const C extends ErrorCode | ClientErrorCode>(
  error: unknown,
  ...codes: [C, ...C[]]
): error is StrataError<C>;
export function isStrataError(error: unknown, ...codes: string[]): boolean {
  return error instanceof StrataError && (codes.length === 0 || codes.includes(error.code));
}

/**
 * `{ error: { code, message, details } }`, as every Strata error is shaped,
 * or null for anything else.
 */
export function errorShape(body: unknown): { code: ErrorCode; message: string; details: ErrorDetails } | null {
  if (typeof body !== "object" || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message, details } = error as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof code !== "string") return null;
  return {
    code: code as ErrorCode,
    message: typeof message === "string" ? message : code,
    details: (typeof details === "object" && details !== null ? details : {}) as ErrorDetails,
  };
}

/** Retry-After as seconds: delta-seconds, or an HTTP date counted from now. */
export function parseRetryAfter(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The success member's data of an openapi-fetch result (a union of a success and an error member). */
type DataOf<T> = T extends { data: infer D; error?: never } ? D : never;

/**
 * The data of an openapi-fetch result, or a thrown StrataError when the
 * response was not a success:
 * `const doc = await unwrap(client.GET("/v1/documents/{documentId}", …))`.
 */
export async function unwrap<T extends { data?: unknown; error?: unknown; response: Response }>(
  result: T | Promise<T>,
): Promise<DataOf<T>> {
  const settled = await result;
  if (!settled.response.ok) throw await StrataError.fromResponse(settled.response, settled.error);
  return settled.data as DataOf<T>;
}
