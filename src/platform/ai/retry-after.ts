/**
 * How long a provider's 429 asks the caller to wait, in milliseconds, from
 * its response headers: `retry-after-ms` (OpenAI's, the most precise) when it
 * is a number, else `Retry-After` as delay-seconds or as an HTTP date (RFC
 * 9110 10.2.3), counted from `nowMs`. Null when neither names a usable time;
 * a date in the past is 0.
 */
export function retryAfterMs(headers: { get(name: string): string | null } | undefined, nowMs: number): number | null {
  if (!headers) return null;
  const precise = headers.get("retry-after-ms")?.trim();
  if (precise && /^\d+(\.\d+)?$/.test(precise)) return Math.ceil(Number(precise));
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // Only a date has letters in it; Date.parse would also read bare numbers as years.
  if (!/[a-z]/i.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
