import { GENERATION_SEQUENCE_KEY, IDLE_MS } from "../cache/generations.ts";
import type { Clock } from "../clock.ts";
import type { Plan } from "../identity/tables.ts";
import type { KvStore } from "../kv/kv-store.ts";
import { KvUnavailableError } from "../kv/kv-store.ts";
import type { Metrics } from "../metrics/metrics.ts";
import { admissionScript } from "./admission-script.ts";
import { type TakeReply, tokenBucketScript } from "./token-bucket-script.ts";

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

/** Per-plan multipliers of the defaults (the public organization's anonymous plan keeps them); every plan has one. */
export const PLAN_MULTIPLIERS: Record<Plan, number> = { anonymous: 1, free: 1, pro: 4, enterprise: 10 };

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

/** One bucket a request is charged on. */
export interface BucketCharge {
  limitClass: LimitClass;
  subject: string;
  limit: Limit;
  cost?: number;
}

/**
 * What one admission round trip decided. `generation` is the current
 * generation of the key asked for (cache/generations.ts), or 0 when none was
 * asked for or a change to it is under way: then no cached copy may be served.
 */
export type Admission = { blocked: true } | { blocked: false; decision: Decision | null; generation: number };

type Outcome = "allowed" | "limited" | "unavailable";

/** Bounds the memory of refusals (one small entry per refused bucket). */
const MAX_REMEMBERED_REFUSALS = 10_000;

export class RateLimiter {
  /** Counter children per class and outcome, looked up once rather than by label hashing per decision. */
  readonly #counted = new Map<string, { inc(): void }>();
  /** Buckets known to refuse until a moment (on this limiter's clock), by bucket key. */
  readonly #refused = new Map<string, { until: number; fullAt: number; cost: number; capacity: number }>();

  constructor(
    private readonly kv: KvStore,
    private readonly metrics?: Metrics,
    /** Times remembered refusals; monotonic performance.now() unless a test passes its own. */
    private readonly clock: Clock = performance,
  ) {}

  /**
   * Takes `cost` tokens from the bucket `rate_limit:{subject}:{class}` (seed
   * 003's key) in one atomic script. Throws KvUnavailableError when the store
   * cannot decide; the caller applies the class's fail-open/closed policy.
   *
   * A refusal is remembered until the moment it named: a bucket only refills
   * at its rate (other processes can only take more), so until then a request
   * of the same or a larger cost is certainly refused too, and is answered
   * without a round trip. The moment is counted from when the refused call
   * was sent, which is no later than when the store decided, so the memory
   * never outlasts the refusal.
   */
  async take(limitClass: LimitClass, subject: string, limit: Limit, cost = 1): Promise<Decision> {
    const key = bucketKey(limitClass, subject);
    const sent = this.clock.now();
    const known = this.#refused.get(key);
    if (known !== undefined) {
      if (sent < known.until && cost >= known.cost && known.capacity === limit.capacity) {
        this.#count(limitClass, "limited");
        return {
          allowed: false,
          limit: limit.capacity,
          remaining: 0,
          retryAfterSeconds: Math.ceil((known.until - sent) / 1000),
          resetSeconds: Math.ceil((known.fullAt - sent) / 1000),
        };
      }
      this.#refused.delete(key);
    }
    try {
      const reply = (await this.kv.runScript(
        tokenBucketScript,
        [key],
        [limit.capacity, 60_000 / limit.perMinute, cost],
      )) as TakeReply;
      const decision = toDecision(reply, limit);
      if (!decision.allowed) this.#rememberRefusal(key, sent, reply, cost, limit.capacity);
      this.#count(limitClass, decision.allowed ? "allowed" : "limited");
      return decision;
    } catch (error) {
      if (error instanceof KvUnavailableError) this.#count(limitClass, "unavailable");
      throw error;
    }
  }

  /**
   * A request's admission in one round trip: refused (`blocked`) when any of
   * `absentKeys` exists (an ended session's marker), else charged on each
   * bucket in order, stopping at the first that refuses. The decision is
   * that bucket's, or the first bucket's when all allow; null with no
   * buckets. With `generationKey`, the same round trip reads that key's
   * generation. Throws KvUnavailableError when the store cannot decide.
   */
  async admit(
    absentKeys: readonly string[],
    buckets: readonly BucketCharge[],
    generationKey: string | null = null,
  ): Promise<Admission> {
    const keys = [...absentKeys];
    const args: number[] = [absentKeys.length, generationKey ? 1 : 0, IDLE_MS];
    if (generationKey) keys.push(generationKey, GENERATION_SEQUENCE_KEY);
    for (const b of buckets) {
      keys.push(bucketKey(b.limitClass, b.subject));
      args.push(b.limit.capacity, 60_000 / b.limit.perMinute, b.cost ?? 1);
    }
    const limitClass = buckets[0]?.limitClass;
    try {
      const [blocked, decidedBy, allowed, remaining, waitMs, fullMs, generation] = (await this.kv.runScript(
        admissionScript,
        keys,
        args,
      )) as [number, number, ...TakeReply, number];
      if (blocked === 1) return { blocked: true };
      const bucket = buckets[decidedBy];
      if (!limitClass || !bucket) return { blocked: false, decision: null, generation };
      const decision = toDecision([allowed, remaining, waitMs, fullMs], bucket.limit);
      this.#count(limitClass, decision.allowed ? "allowed" : "limited");
      return { blocked: false, decision, generation };
    } catch (error) {
      if (error instanceof KvUnavailableError && limitClass) this.#count(limitClass, "unavailable");
      throw error;
    }
  }

  #rememberRefusal(key: string, sent: number, [, , waitMs, fullMs]: TakeReply, cost: number, capacity: number) {
    if (this.#refused.size >= MAX_REMEMBERED_REFUSALS) {
      const now = this.clock.now();
      for (const [k, r] of this.#refused) if (r.until <= now) this.#refused.delete(k);
      // Still full of live refusals: forget the oldest rather than grow.
      if (this.#refused.size >= MAX_REMEMBERED_REFUSALS) {
        this.#refused.delete(this.#refused.keys().next().value as string);
      }
    }
    this.#refused.set(key, { until: sent + waitMs, fullAt: sent + fullMs, cost, capacity });
  }

  #count(limitClass: LimitClass, outcome: Outcome) {
    if (!this.metrics) return;
    const id = `${limitClass}:${outcome}`;
    let child = this.#counted.get(id);
    if (!child) {
      child = this.metrics.rateLimitDecisions.labels({ limit_class: limitClass, outcome });
      this.#counted.set(id, child);
    }
    child.inc();
  }
}

export function bucketKey(limitClass: LimitClass, subject: string): string {
  return `rate_limit:${subject}:${limitClass}`;
}

function toDecision([allowed, remaining, waitMs, fullMs]: TakeReply, limit: Limit): Decision {
  return {
    allowed: allowed === 1,
    limit: limit.capacity,
    remaining,
    retryAfterSeconds: Math.ceil(waitMs / 1000),
    resetSeconds: Math.ceil(fullMs / 1000),
  };
}

/** The limit for a class and tier, scaled by plan and overridden by the organization's own setting. */
export function limitFor(limitClass: LimitClass, tier: Tier, plan: Plan = "free", override?: number): Limit {
  const base = DEFAULT_LIMITS[limitClass][tier];
  if (override && override > 0) return { capacity: override, perMinute: override };
  const factor = limitClass === "auth" ? 1 : PLAN_MULTIPLIERS[plan];
  return { capacity: base.capacity * factor, perMinute: base.perMinute * factor };
}
