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
  ) {
    super(`the AI provider failed${status ? ` with HTTP ${status}` : ""}`, { cause });
    this.name = "AiProviderError";
  }
}
