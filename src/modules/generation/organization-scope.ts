import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";

/**
 * Generation data belongs to an organization, and what a caller creates is
 * also recorded as theirs: an account's act only (an anonymous session has
 * no organization of its own to spend limits from).
 */
export function organizationScope(principal: Principal): { organizationId: string; userId: string } {
  if (principal.kind === "anonymous") throw errors.anonymousNotAllowed();
  return { organizationId: principal.organizationId, userId: principal.userId };
}
