import type { KvStore } from "../kv/kv-store.ts";
import { KvUnavailableError } from "../kv/kv-store.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { tokenBucketScript } from "./token-bucket-script.ts";

/**
 * Route classes and their limits.
 *
 * - ai: seed 000's tiers for AI routes, per principal: anonymous 10/min,
 *   authenticated 50/min, admin 100/min; an organization's plan scales them,
 *   and an operator may set settings.rate_limits.ai for one organization (the
 *   API does not let tenants write it). Anonymous callers are charged twice:
 *   per session, and per client IP (so minting sessions buys nothing).
 *   Fails closed when the store is down.
 * - auth: login, registration, refresh and anonymous-session creation, per
 *   client IP (seed 002's auth:rate_limit:{ip}). Fails closed.
 * - api: every other /v1 route, per principal (or IP when anonymous of any
 *   kind). Fails open: a store outage must not take the whole API down, and
 *   these routes do nothing expensive an attacker could amplify.
 */
export type LimitClass = "ai" | "auth" | "api";
export type Tier = "anonymous" | "authenticated" | "admin";

export interface Limit {
  /** Bucket size: how many requests may arrive at once. */
  capacity: number;
  /** Sustained rate. */
  perMinute: number;
}

export const DEFAULT_LIMITS: Record<LimitClass, Record<Tier, Limit>> = {
  ai: {
    anonymous: { capacity: 10, perMinute: 10 },
    authenticated: { capacity: 50, perMinute: 50 },
    admin: { capacity: 100, perMinute: 100 },
  },
  auth: {
    anonymous: { capacity: 20, perMinute: 20 },
    authenticated: { capacity: 20, perMinute: 20 },
    admin: { capacity: 20, perMinute: 20 },
  },
  api: {
    anonymous: { capacity: 120, perMinute: 120 },
    authenticated: { capacity: 600, perMinute: 600 },
    admin: { capacity: 1200, perMinute: 1200 },
  },
};

/** Per-plan multipliers of the defaults (the public organization's anonymous plan keeps them). */
export const PLAN_MULTIPLIERS: Record<string, number> = { anonymous: 1, free: 1, pro: 4, enterprise: 10 };

export const FAILS_CLOSED: Record<LimitClass, boolean> = { ai: true, auth: true, api: false };

export interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until a request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

export class RateLimiter {
  constructor(
    private readonly kv: KvStore,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Takes `cost` tokens from the bucket `rate_limit:{subject}:{class}` (seed
   * 003's key) in one atomic script. Throws KvUnavailableError when the store
   * cannot decide; the caller applies the class's fail-open/closed policy.
   */
  async take(limitClass: LimitClass, subject: string, limit: Limit, cost = 1): Promise<Decision> {
    const perTokenMs = 60_000 / limit.perMinute;
    try {
      const reply = (await this.kv.runScript(
        tokenBucketScript,
        [`rate_limit:${subject}:${limitClass}`],
        [limit.capacity, perTokenMs, cost],
      )) as number[];
      const [allowed, remaining, waitMs, fullMs] = reply as [number, number, number, number];
      const decision: Decision = {
        allowed: allowed === 1,
        limit: limit.capacity,
        remaining,
        retryAfterSeconds: Math.ceil(waitMs / 1000),
        resetSeconds: Math.ceil(fullMs / 1000),
      };
      this.metrics?.rateLimitDecisions.inc({
        limit_class: limitClass,
        outcome: decision.allowed ? "allowed" : "limited",
      });
      return decision;
    } catch (error) {
      if (error instanceof KvUnavailableError) {
        this.metrics?.rateLimitDecisions.inc({ limit_class: limitClass, outcome: "unavailable" });
      }
      throw error;
    }
  }
}

/** The limit for a class and tier, scaled by plan and overridden by the organization's own setting. */
export function limitFor(limitClass: LimitClass, tier: Tier, plan = "free", override?: number): Limit {
  const base = DEFAULT_LIMITS[limitClass][tier];
  if (override && override > 0) return { capacity: override, perMinute: override };
  const factor = limitClass === "auth" ? 1 : (PLAN_MULTIPLIERS[plan] ?? 1);
  return { capacity: base.capacity * factor, perMinute: base.perMinute * factor };
}
