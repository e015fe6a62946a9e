/**
 * AI provider errors, apart from the client so the HTTP layer can map them
 * without loading the provider SDK.
 */
export class AiNotConfiguredError extends Error {
  constructor() {
    super("no AI provider is configured (set AI_BASE_URL)");
    this.name = "AiNotConfiguredError";
  }
}

/** The provider failed or could not be reached; the request may be retried later. */
export class AiProviderError extends Error {
  constructor(
    readonly status: number | null,
    cause: unknown,
    message = `the AI provider failed${status ? ` with HTTP ${status}` : ""}`,
  ) {
    super(message, { cause });
    this.name = "AiProviderError";
  }
}

/**
 * The provider refused the call for its rate limit (HTTP 429): nothing went
 * wrong with the request, it came too soon. `retryAfterMs` is what the
 * provider asked for (Retry-After or retry-after-ms), or null when it named
 * no time. The client never waits by itself; `withProviderRetries` waits a
 * bounded number of times and then lets this error through, which the HTTP
 * layer answers as 503 `ai_provider_busy` with the provider's Retry-After.
 */
export class AiProviderBusyError extends AiProviderError {
  constructor(
    readonly retryAfterMs: number | null,
    cause: unknown,
  ) {
    super(
      429,
      cause,
      `the AI provider is rate limiting requests${retryAfterMs === null ? "" : `; it asks to retry after ${retryAfterMs} ms`}`,
    );
    this.name = "AiProviderBusyError";
  }
}
