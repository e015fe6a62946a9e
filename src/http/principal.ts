import type { FastifyRequest } from "fastify";
import { errors } from "../platform/errors/catalog.ts";
import type { Principal } from "../platform/identity/principal.ts";
import type { Role } from "../platform/identity/tables.ts";
import type { LimitClass } from "../platform/rate-limit/rate-limiter.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Who is calling; null when no Authorization header was sent. Set before any handler runs. */
    principal: Principal | null;
    /**
     * For a user's access token, the marker that exists once its session has
     * ended; checked by the admission hook (rate-limit.ts) in the same round
     * trip as the rate-limit decision.
     */
    revocationMarker: string | null;
    /**
     * The current generation of what the route reads, from the admission
     * round trip when the route names a generation key (0: none asked for,
     * unknown, or a change under way; serve nothing cached). See
     * platform/cache/generations.ts.
     */
    generation: number;
  }
  interface FastifyContextConfig {
    /** The route's rate-limit class; `false` for none. Routes under /v1 default to "api". */
    rateLimit?: LimitClass | false;
    /** The generation key of what this request reads, read in the admission round trip; null for none. */
    generationKey?: (request: FastifyRequest) => string | null;
  }
}

/**
 * Resolves the caller on every /v1 request (the session check follows in the
 * admission hook, registerRateLimits, which runs next). API keys may read
 * with `read`; anything else needs `write`.
 */
export function registerAuthentication(app: App, platform: Platform) {
  app.decorateRequest("principal", null);
  app.decorateRequest("revocationMarker", null);
  app.addHook("onRequest", async (request) => {
    const resolved = await platform.identity.resolve(request.headers.authorization);
    request.principal = resolved.principal;
    request.revocationMarker = resolved.revocationMarker;
    const principal = request.principal;
    if (principal?.kind === "api_key" && request.method !== "GET" && request.method !== "HEAD") {
      if (!principal.scopes.includes("write") && !principal.scopes.includes("admin"))
        throw errors.insufficientScope("write");
    }
  });
}

/** Any authenticated caller, anonymous sessions included. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw errors.authenticationRequired();
  return request.principal;
}

export type AccountPrincipal = Exclude<Principal, { kind: "anonymous" }>;

/** A caller with an account (a user's token, or an API key acting for its user). */
export function requireAccount(request: FastifyRequest, options: { admin?: boolean } = {}): AccountPrincipal {
  const principal = requirePrincipal(request);
  if (principal.kind === "anonymous") throw errors.anonymousNotAllowed();
  if (options.admin && principal.kind === "api_key" && !principal.scopes.includes("admin")) {
    throw errors.insufficientScope("admin");
  }
  return principal;
}

/** A user's own token (not an API key): managing sessions and keys is for people. */
export function requireUser(request: FastifyRequest): Extract<Principal, { kind: "user" }> {
  const principal = requireAccount(request);
  if (principal.kind !== "user") throw errors.insufficientScope("user session");
  return principal;
}

export function roleOf(principal: AccountPrincipal): Role {
  return principal.role;
}
