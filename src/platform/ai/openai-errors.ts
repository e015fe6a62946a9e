import OpenAI from "openai";
import { AiProviderBusyError, AiProviderError } from "./errors.ts";
import { retryAfterMs } from "./retry-after.ts";

/** The caller's abort stays an abort; a 429 is busy; every other failure is the provider's. */
export function toProviderError(error: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  // OpenAI answers 429 for a spent account too (insufficient_quota): no wait mends that.
  if (error instanceof OpenAI.APIError && error.status === 429 && error.code !== "insufficient_quota") {
    return new AiProviderBusyError(retryAfterMs(error.headers, Date.now()), error);
  }
  if (error instanceof OpenAI.APIError) return new AiProviderError(error.status ?? null, error);
  return new AiProviderError(null, error);
}
