import assert from "node:assert/strict";

/**
 * Polls `read` until `accept` takes its value, and returns that value; past
 * the deadline, returns the last value read, for the caller's assertion to
 * report. For state written just after the state a test waited for (a
 * worker releases a context's KV entries after its completion commits).
 */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Polls `check` until it holds; fails the test past the deadline. */
export async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
