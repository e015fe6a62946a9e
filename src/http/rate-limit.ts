import type { FastifyReply, FastifyRequest } from "fastify";
import { errors } from "../platform/errors/catalog.ts";
import { isAdmin, principalKey } from "../platform/identity/principal.ts";
import { KvUnavailableError } from "../platform/kv/kv-store.ts";
import { FAILS_CLOSED, type LimitClass, limitFor, type Tier } from "../platform/rate-limit/rate-limiter.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";

/**
 * Applies the route's rate-limit class after authentication. Answers 429
 * with Retry-After when the bucket is empty; sets RateLimit-Limit,
 * RateLimit-Remaining and RateLimit-Reset on every limited route. When the
 * key-value store cannot decide, classes that fail closed answer 503 and the
 * rest let the request through (see rate-limiter.ts for which is which).
 */
/** How many anonymous sessions' worth of AI requests one client IP may make. */
const ANONYMOUS_SESSIONS_PER_IP = 3;

export function registerRateLimits(app: App, platform: Platform) {
  app.addHook("preHandler", async (request, reply) => {
    const limitClass = request.routeOptions.config.rateLimit ?? "api";
    if (limitClass === false) return;
    await enforce(platform, limitClass, request, reply);
  });
}

async function enforce(platform: Platform, limitClass: LimitClass, request: FastifyRequest, reply: FastifyReply) {
  const principal = request.principal;
  const subject = limitClass === "auth" || !principal ? `ip:${request.ip}` : principalKey(principal);
  try {
    const org = principal ? await organizationLimits(platform, principal.organizationId) : null;
    // The admin tier is for admins of a shared organization (or admin-scoped
    // keys); everyone owns their personal organization, so that role alone
    // does not raise a limit.
    const tier: Tier =
      !principal || principal.kind === "anonymous"
        ? "anonymous"
        : isAdmin(principal) && !org?.isPersonal
          ? "admin"
          : "authenticated";
    const limit = limitFor(limitClass, tier, org?.plan, org?.overrides?.[limitClass]);
    let decision = await platform.rateLimiter.take(limitClass, subject, limit);
    if (decision.allowed && limitClass === "ai" && principal?.kind === "anonymous") {
      // Sessions are free to mint, so anonymous AI use is also capped per client IP.
      const perIp = await platform.rateLimiter.take(limitClass, `ip:${request.ip}`, {
        capacity: limit.capacity * ANONYMOUS_SESSIONS_PER_IP,
        perMinute: limit.perMinute * ANONYMOUS_SESSIONS_PER_IP,
      });
      if (!perIp.allowed) decision = perIp;
    }
    reply.header("ratelimit-limit", String(decision.limit));
    reply.header("ratelimit-remaining", String(decision.remaining));
    reply.header("ratelimit-reset", String(decision.resetSeconds));
    if (!decision.allowed) throw errors.rateLimited(Math.max(1, decision.retryAfterSeconds), limitClass);
  } catch (error) {
    if (!(error instanceof KvUnavailableError)) throw error;
    if (FAILS_CLOSED[limitClass]) throw errors.dependencyUnavailable("kv", 2, error);
    request.log.warn({ limitClass }, "rate limit skipped: key-value store unavailable");
  }
}

/** An organization's plan and rate-limit overrides, cached with the user data (900 s). */
async function organizationLimits(
  platform: Platform,
  organizationId: string,
): Promise<{ plan: string; isPersonal: boolean; overrides?: Record<string, number> }> {
  return platform.caches.ns("user").getOrLoad(`org-limits:${organizationId}`, async () => {
    const row = await platform.database.db
      .selectFrom("organizations")
      .select(["plan", "settings", "is_personal"])
      .where("id", "=", organizationId)
      .executeTakeFirst();
    return {
      plan: row?.plan ?? "free",
      isPersonal: row?.is_personal ?? false,
      overrides: (row?.settings.rate_limits as Record<string, number>) ?? {},
    };
  });
}

export async function forgetOrganizationLimits(platform: Platform, organizationId: string) {
  await platform.caches.ns("user").invalidate(`org-limits:${organizationId}`);
}
