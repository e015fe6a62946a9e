import type { FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../platform/errors/catalog.ts";
import { isAdmin, type Principal, principalKey } from "../platform/identity/principal.ts";
import { KvUnavailableError } from "../platform/kv/kv-store.ts";
import {
  type BucketCharge,
  FAILS_CLOSED,
  type LimitClass,
  limitFor,
  type Tier,
} from "../platform/rate-limit/rate-limiter.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";

/**
 * Admission, right after authentication and before the body is read: one
 * key-value round trip checks that the caller's session has not ended and
 * takes from the route class's bucket(s). Answers 401 session_revoked for an
 * ended session, 429 with Retry-After when the bucket is empty, and sets
 * RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset on every limited
 * route. When the key-value store cannot decide, classes that fail closed
 * answer 503, and the rest ask Postgres whether the session is still open and
 * then let the request through unlimited (see rate-limiter.ts for which is which).
 * A route that names a generation key (its config's `generationKey`) gets the
 * key's current generation from the same round trip, as `request.generation`;
 * it stays 0 when the store cannot answer.
 */
/** How many anonymous sessions' worth of AI requests one client IP may make. */
const ANONYMOUS_SESSIONS_PER_IP = 3;

export function registerRateLimits(app: App, platform: Platform) {
  app.decorateRequest("generation", 0);
  app.addHook("onRequest", async (request, reply) => {
    const limitClass = request.routeOptions.config.rateLimit ?? "api";
    await admit(platform, limitClass, request, reply);
  });
}

async function admit(platform: Platform, limitClass: LimitClass | false, request: FastifyRequest, reply: FastifyReply) {
  const principal = request.principal;
  const marker = request.revocationMarker;
  if (limitClass === false) {
    if (marker && principal?.kind === "user" && (await platform.identity.isSessionEnded(principal.sessionId))) {
      throw errors.sessionRevoked();
    }
    return;
  }
  const buckets = await bucketsFor(platform, limitClass, principal, request.ip);
  // Only for a caller who may read at all: the script may draw a generation for the key.
  const generationKey = principal ? (request.routeOptions.config.generationKey?.(request) ?? null) : null;
  try {
    const admission = await platform.rateLimiter.admit(marker ? [marker] : [], buckets, generationKey);
    if (admission.blocked) throw errors.sessionRevoked();
    request.generation = admission.generation;
    const decision = admission.decision;
    if (!decision) return;
    reply.header("ratelimit-limit", String(decision.limit));
    reply.header("ratelimit-remaining", String(decision.remaining));
    reply.header("ratelimit-reset", String(decision.resetSeconds));
    if (!decision.allowed) throw errors.rateLimited(Math.max(1, decision.retryAfterSeconds), limitClass);
  } catch (error) {
    if (!(error instanceof KvUnavailableError)) throw error;
    if (FAILS_CLOSED[limitClass]) throw errors.dependencyUnavailable("kv", 2, error);
    // Postgres always knows whether a session has ended.
    if (principal?.kind === "user" && (await platform.identity.isSessionEndedInDatabase(principal.sessionId))) {
      throw errors.sessionRevoked();
    }
    request.log.warn({ limitClass }, "rate limit skipped: key-value store unavailable");
  }
}

async function bucketsFor(
  platform: Platform,
  limitClass: LimitClass,
  principal: Principal | null,
  ip: string,
): Promise<BucketCharge[]> {
  const subject = limitClass === "auth" || !principal ? `ip:${ip}` : principalKey(principal);
  const org = principal ? await platform.identity.organizations.limits(principal.organizationId) : null;
  // The admin tier is for admins of a shared organization (or admin-scoped
  // keys); everyone owns their personal organization, so that role alone
  // does not raise a limit.
  const tier: Tier =
    !principal || principal.kind === "anonymous"
      ? "anonymous"
      : isAdmin(principal) && !org?.isPersonal
        ? "admin"
        : "authenticated";
  const limit = limitFor(limitClass, tier, org?.plan, org?.overrides[limitClass]);
  const buckets: BucketCharge[] = [{ limitClass, subject, limit }];
  if (limitClass === "ai" && principal?.kind === "anonymous") {
    // Sessions are free to mint, so anonymous AI use is also capped per client IP.
    buckets.push({
      limitClass,
      subject: `ip:${ip}`,
      limit: {
        capacity: limit.capacity * ANONYMOUS_SESSIONS_PER_IP,
        perMinute: limit.perMinute * ANONYMOUS_SESSIONS_PER_IP,
      },
    });
  }
  return buckets;
}
