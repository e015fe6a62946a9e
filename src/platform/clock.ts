/**
 * Where code that decides by time reads it: expiries, TTLs, refill rates.
 * Passed in (the system clock by default), so a test moves time forward
 * instead of sleeping and waiting for it. Milliseconds since the epoch.
 *
 * Only time this process decides by goes through it: the database's `now()`
 * and Redis's `TIME` are their servers' clocks, and tests of what those
 * decide move the recorded times instead (or wait, where a server alone
 * keeps the time, as Redis does for its TTLs).
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
