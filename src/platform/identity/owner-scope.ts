import type { Principal } from "./principal.ts";

/**
 * Ownership, decided in every query: a user (or an API key acting for one)
 * owns rows by user_id, an anonymous session by anonymous_session_id. A row
 * that fails this filter does not exist for the caller (404).
 */
export function ownerColumn(principal: Principal): {
  column: "user_id" | "anonymous_session_id";
  value: string;
  /** API keys act within their organization only: their reads are also filtered by it. */
  organizationId: string | null;
} {
  return principal.kind === "anonymous"
    ? { column: "anonymous_session_id", value: principal.sessionId, organizationId: null }
    : {
        column: "user_id",
        value: principal.userId,
        organizationId: principal.kind === "api_key" ? principal.organizationId : null,
      };
}
