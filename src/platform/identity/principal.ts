import type { ApiKeyScope, Role } from "./tables.ts";

/**
 * Who is calling. Every route receives one (or none, for public routes), and
 * every query that reads owned rows is scoped by it: see `ownerOf`.
 */
export type Principal =
  | { kind: "anonymous"; sessionId: string; organizationId: string }
  | { kind: "user"; userId: string; sessionId: string; organizationId: string; role: Role }
  | { kind: "api_key"; keyId: string; userId: string; organizationId: string; scopes: ApiKeyScope[]; role: Role };

/** The owner columns a row created by this principal carries (exactly one of user/session). */
export function ownerOf(principal: Principal): {
  user_id: string | null;
  anonymous_session_id: string | null;
  organization_id: string;
} {
  return principal.kind === "anonymous"
    ? { user_id: null, anonymous_session_id: principal.sessionId, organization_id: principal.organizationId }
    : { user_id: principal.userId, anonymous_session_id: null, organization_id: principal.organizationId };
}

/**
 * A stable id for per-principal keys (rate limits, caches). API keys count
 * as their user, so minting more keys does not multiply a user's limits.
 */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case "anonymous":
      return `anon:${principal.sessionId}`;
    case "user":
      return `user:${principal.userId}`;
    case "api_key":
      return `user:${principal.userId}`;
  }
}

/** Admin: an owner or admin of the active organization, or an API key with the admin scope. */
export function isAdmin(principal: Principal): boolean {
  if (principal.kind === "anonymous") return false;
  if (principal.kind === "api_key") return principal.scopes.includes("admin");
  return principal.role === "owner" || principal.role === "admin";
}
