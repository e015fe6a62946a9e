import type { AppError } from "../../platform/errors/app-error.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Principal } from "../../platform/identity/principal.ts";

type AccountPrincipal = Exclude<Principal, { kind: "anonymous" }>;

/**
 * Generation data belongs to an organization, and what a caller creates is
 * also recorded as theirs: an account's act only (an anonymous session has
 * no organization of its own to spend limits from).
 */
export function organizationScope(principal: Principal): { organizationId: string; userId: string } {
  if (principal.kind === "anonymous") throw errors.anonymousNotAllowed();
  return { organizationId: principal.organizationId, userId: principal.userId };
}

/**
 * The caller, for a request that names one of an organization's resources
 * by id: to an anonymous session every such id is not found (404, as
 * another organization's is), never a 403 that would tell it the id is real.
 */
export function accountOrNotFound(principal: Principal, notFound: () => AppError): AccountPrincipal {
  if (principal.kind === "anonymous") throw notFound();
  return principal;
}
