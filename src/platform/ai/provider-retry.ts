import { sleep as realSleep, type Sleep } from "../sleep.ts";
import { AiProviderBusyError, AiProviderError } from "./errors.ts";

export interface ProviderRetryOptions {
  /** Stops any wait at once; the call then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How many 429s are waited out (each for its Retry-After) before the next
   * one is let through as AiProviderBusyError; 3 by default. A 429 is the
   * provider pacing us, not a failure: it does not use up `failureRetries`.
   */
  busyWaits?: number;
  /** A 429 asking for a longer wait than this is let through at once; 60 s by default. */
  maxBusyWaitMs?: number;
  /**
   * How many times a failure that may pass is tried again: unreachable,
   * timed out, 408, 409 or 5xx (the SDK's own rule); 1 by default, as the
   * SDK did before Strata took retries over. Other 4xx never are.
   */
  failureRetries?: number;
  /** Wait before the first failure retry, doubled for each next one; 500 ms by default. */
  failureBackoffMs?: number;
  sleep?: Sleep;
}

/** A 429 without Retry-After: 1 s, then 2 s, 4 s... */
const BUSY_WAIT_WITHOUT_RETRY_AFTER_MS = 1_000;

/**
 * Runs `call` (given its attempt number, from 1), waiting out the provider's
 * 429s and retrying failures that may pass, within the bounds of `options`.
 * What gets through: the last AiProviderBusyError (answered as 503
 * `ai_provider_busy`), the last AiProviderError, or anything else `call`
 * threw, untouched. Every attempt is a new call: a caller charging a token
 * budget acquires inside `call`, so each attempt is charged (see
 * completeWithinBudget).
 */
export async function withProviderRetries<T>(
  call: (attempt: number) => Promise<T>,
  options: ProviderRetryOptions = {},
): Promise<T> {
  const busyWaits = options.busyWaits ?? 3;
  const maxBusyWaitMs = options.maxBusyWaitMs ?? 60_000;
  const failureRetries = options.failureRetries ?? 1;
  const failureBackoffMs = options.failureBackoffMs ?? 500;
  const sleep = options.sleep ?? realSleep;
  let busy = 0;
  let failures = 0;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      if (error instanceof AiProviderBusyError) {
        const waitMs = error.retryAfterMs ?? BUSY_WAIT_WITHOUT_RETRY_AFTER_MS * 2 ** busy;
        if (busy >= busyWaits || waitMs > maxBusyWaitMs) throw error;
        busy++;
        await sleep(waitMs, options.signal);
        continue;
      }
      if (error instanceof AiProviderError && mayPass(error) && failures < failureRetries) {
        await sleep(failureBackoffMs * 2 ** failures, options.signal);
        failures++;
        continue;
      }
      throw error;
    }
  }
}

function mayPass(error: AiProviderError): boolean {
  const status = error.status;
  return status === null || status === 408 || status === 409 || status >= 500;
}
