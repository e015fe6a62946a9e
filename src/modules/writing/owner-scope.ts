import type { Principal } from "../../platform/identity/principal.ts";
import type { Author } from "./version-store.ts";

export { ownerColumn } from "../../platform/identity/owner-scope.ts";

export function authorOf(principal: Principal): Author {
  return principal.kind === "anonymous"
    ? { userId: null, sessionId: principal.sessionId }
    : { userId: principal.userId, sessionId: null };
}
