import type { Kysely } from "kysely";
import type { Caches } from "../cache/cache.ts";
import type { Tables } from "../database/tables.ts";
import { errors } from "../errors/catalog.ts";
import type { Page } from "../pagination.ts";
import {
  addMember,
  changeRole,
  createOrganization,
  getOrganization,
  listMembers,
  listOrganizations,
  removeMember,
  updateOrganization,
} from "./organizations.ts";
import type { Principal } from "./principal.ts";
import type { MemberView, OrganizationView } from "./schemas.ts";
import type { Plan, Role } from "./tables.ts";

/** An organization's rate-limit plan and generation settings, cached together (one row read). */
const ORGANIZATION_POLICY = "organization_policy";
/** The backstop for a missed invalidation (an operator editing a plan directly in the database). */
const ORGANIZATION_POLICY_TTL_MS = 30_000;

interface OrganizationPolicy {
  limits: OrganizationLimits;
  settings: OrganizationSettings;
}

/** Seed 001's defaults, for an organization whose settings name none. */
export const DEFAULT_MAX_CONTEXTS_PER_DAY = 1000;
export const DEFAULT_MAX_BATCH_SIZE = 50;

/**
 * Seed 001's organization settings, as modules enforce them. allowedModels
 * is null when the organization has not restricted models (any is allowed);
 * an empty list allows none.
 */
export interface OrganizationSettings {
  allowedModels: string[] | null;
  maxContextsPerDay: number;
  maxBatchSize: number;
  defaultPipelineId: string | null;
}

/** What the rate limiter needs of an organization. */
export interface OrganizationLimits {
  plan: Plan;
  isPersonal: boolean;
  overrides: Record<string, number>;
}

type AccountPrincipal = Exclude<Principal, { kind: "anonymous" }>;

/**
 * Organizations and their members, as the API acts on them. Every method
 * takes the calling principal and decides what it may reach, in one order:
 * an anonymous session belongs to no organization and an API key only to
 * the one it was made in, so any other is not found (404, as one the user
 * is not a member of is, in the queries); only then is a missing scope a
 * 403; the role checks are the queries'. Writes that change what other
 * processes cache (roles, an organization's plan and limits) drop those
 * copies themselves, so no caller can forget to.
 */
export class OrganizationService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly read: Kysely<Tables>,
    private readonly caches: Caches,
    private readonly forgetRole: (userId: string, organizationId: string) => Promise<void>,
  ) {}

  /** The organizations the caller belongs to; an API key sees only its own. */
  list(principal: Principal, limit: number, cursor?: string): Promise<Page<OrganizationView>> {
    const actor = account(principal);
    return listOrganizations(this.read, actor.userId, limit, cursor, {
      only: actor.kind === "api_key" ? actor.organizationId : null,
    });
  }

  get(principal: Principal, organizationId: string): Promise<OrganizationView> {
    return getOrganization(this.db, this.#actor(principal, organizationId).userId, organizationId);
  }

  /** A person's act: an API key works in the organization it was made in and makes no others. */
  create(principal: Principal, name: string): Promise<OrganizationView> {
    const actor = account(principal);
    if (actor.kind !== "user") throw errors.insufficientScope("user session");
    return createOrganization(this.db, actor.userId, name);
  }

  async update(
    principal: Principal,
    organizationId: string,
    patch: Parameters<typeof updateOrganization>[3],
  ): Promise<OrganizationView> {
    const actor = this.#actor(principal, organizationId, { admin: true });
    const updated = await updateOrganization(this.db, actor.userId, organizationId, patch);
    await this.forgetLimits(organizationId);
    return updated;
  }

  listMembers(principal: Principal, organizationId: string, limit: number, cursor?: string): Promise<Page<MemberView>> {
    const actor = this.#actor(principal, organizationId);
    return listMembers(this.db, actor.userId, organizationId, limit, cursor);
  }

  async addMember(
    principal: Principal,
    organizationId: string,
    input: { email: string; role: Role },
  ): Promise<MemberView> {
    const actor = this.#actor(principal, organizationId, { admin: true });
    const member = await addMember(this.db, actor.userId, organizationId, input);
    await this.forgetRole(member.userId, organizationId);
    return member;
  }

  async changeRole(principal: Principal, organizationId: string, memberId: string, role: Role): Promise<MemberView> {
    const actor = this.#actor(principal, organizationId, { admin: true });
    const member = await changeRole(this.db, actor.userId, organizationId, memberId, role);
    await this.forgetRole(memberId, organizationId);
    return member;
  }

  /** Removes a member, or the caller leaves. */
  async removeMember(principal: Principal, organizationId: string, memberId: string): Promise<void> {
    const actor = this.#actor(principal, organizationId);
    await removeMember(this.db, actor.userId, organizationId, memberId);
    await this.forgetRole(memberId, organizationId);
  }

  /** An organization's plan and rate-limit overrides, cached in-process and dropped everywhere on change. */
  async limits(organizationId: string): Promise<OrganizationLimits> {
    return (await this.#policy(organizationId)).limits;
  }

  /**
   * An organization's generation settings (seed 001), with the seed's
   * defaults for those it has not set; cached with the limits.
   */
  async settings(organizationId: string): Promise<OrganizationSettings> {
    return (await this.#policy(organizationId)).settings;
  }

  /** Both, from one read of the organization's row, in one cache entry. */
  async #policy(organizationId: string): Promise<OrganizationPolicy> {
    const cache = this.caches.local.cache<OrganizationPolicy>(ORGANIZATION_POLICY, {
      ttlMs: ORGANIZATION_POLICY_TTL_MS,
      max: 10_000,
    });
    const policy = await cache.getOrLoad(organizationId, async () => {
      const row = await this.db
        .selectFrom("organizations")
        .select(["plan", "settings", "is_personal"])
        .where("id", "=", organizationId)
        .executeTakeFirst();
      return {
        limits: {
          plan: row?.plan ?? "free",
          isPersonal: row?.is_personal ?? false,
          overrides: (row?.settings.rate_limits as Record<string, number>) ?? {},
        },
        settings: settingsOf(row?.settings ?? {}),
      };
    });
    return policy as OrganizationPolicy;
  }

  /**
   * Call after an organization's plan or settings change outside the API
   * (an operator's tooling): every process drops its copy at once.
   */
  async forgetLimits(organizationId: string): Promise<void> {
    await this.caches.local.invalidate(ORGANIZATION_POLICY, organizationId);
  }

  #actor(principal: Principal, organizationId: string, options: { admin?: boolean } = {}): AccountPrincipal {
    if (principal.kind === "anonymous") throw errors.organizationNotFound();
    if (principal.kind === "api_key" && principal.organizationId !== organizationId) {
      throw errors.organizationNotFound();
    }
    if (options.admin && principal.kind === "api_key" && !principal.scopes.includes("admin")) {
      throw errors.insufficientScope("admin");
    }
    return principal;
  }
}

/** The stored settings (snake_case, as seed 001 names them), each checked for its type before it is trusted. */
function settingsOf(stored: Record<string, unknown>): OrganizationSettings {
  const models = stored.allowed_models;
  const count = (value: unknown, fallback: number) =>
    typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : fallback;
  return {
    allowedModels: Array.isArray(models) ? models.filter((m): m is string => typeof m === "string") : null,
    maxContextsPerDay: count(stored.max_contexts_per_day, DEFAULT_MAX_CONTEXTS_PER_DAY),
    maxBatchSize: count(stored.max_batch_size, DEFAULT_MAX_BATCH_SIZE),
    defaultPipelineId: typeof stored.default_pipeline_id === "string" ? stored.default_pipeline_id : null,
  };
}

function account(principal: Principal): AccountPrincipal {
  if (principal.kind === "anonymous") throw errors.anonymousNotAllowed();
  return principal;
}
