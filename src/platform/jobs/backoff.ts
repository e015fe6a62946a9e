/** How long a failed job waits before its next attempt. */
export interface BackoffOptions {
  /** The first retry's delay before jitter. */
  baseMs: number;
  /** No delay exceeds this, jitter included. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 10 * 60_000 };

/**
 * Exponential backoff with "equal jitter": after attempt n the delay is drawn
 * from [d/2, d] where d = min(maxMs, baseMs * 2^(n-1)). Half stays fixed, so
 * retries still back off; half is random, so jobs that failed together (a
 * dependency went down) do not all retry in the same instant.
 */
export function retryDelayMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
