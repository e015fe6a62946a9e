import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import { errors } from "../../platform/errors/catalog.ts";
import {
  addMember,
  changeRole,
  createOrganization,
  getOrganization,
  listMembers,
  listOrganizations,
  removeMember,
  updateOrganization,
} from "../../platform/identity/organizations.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { type AccountPrincipal, requireAccount, requirePrincipal, requireUser } from "../principal.ts";
import { forgetOrganizationLimits } from "../rate-limit.ts";
import { Label, ListQuery, pageOf, StrictObject } from "../schemas.ts";

const Role = Type.Union([Type.Literal("owner"), Type.Literal("admin"), Type.Literal("member")]);
const Id = Type.String({ format: "uuid" });

const Organization = Type.Object({
  id: Id,
  name: Type.String(),
  plan: Type.String(),
  isPersonal: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  role: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const Member = Type.Object({
  userId: Id,
  email: Type.String(),
  name: Type.String(),
  role: Type.String(),
  joinedAt: Type.String(),
});

/** Seed 001's organization settings, in camelCase. */
const Settings = StrictObject({
  maxContextsPerDay: Type.Optional(Type.Integer({ minimum: 0 })),
  maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  allowedModels: Type.Optional(Type.Array(Label(100), { maxItems: 100 })),
  defaultPipelineId: Type.Optional(Type.String({ maxLength: 100 })),
  // rate_limits is deliberately absent: limits are the operator's to raise
  // (plan, or settings.rate_limits set by an operator), never a tenant's.
});

/**
 * The caller of a route on one organization, and that organization, checked
 * in this order: an anonymous session belongs to no organization and an API
 * key only to the one it was made in, so any other is not found (404, as an
 * organization the user is not a member of is, further on); only then may a
 * missing scope be a 403. Whether a user is a member is decided by the
 * query itself.
 */
function callerIn(
  request: FastifyRequest,
  organizationId: string,
  options: { admin?: boolean } = {},
): AccountPrincipal {
  const principal = requirePrincipal(request);
  if (principal.kind === "anonymous") throw errors.notFound("organization");
  if (principal.kind === "api_key" && principal.organizationId !== organizationId) {
    throw errors.notFound("organization");
  }
  return requireAccount(request, options);
}

/** /v1/organizations and their members. A non-member sees 404 for any of them. */
export function registerOrganizationRoutes(app: App, platform: Platform) {
  const db = platform.database.db;
  const tags = ["organizations"];

  app.get(
    "/organizations",
    {
      schema: {
        tags,
        summary: "Organizations the caller belongs to",
        querystring: ListQuery,
        response: { 200: pageOf(Organization) },
      },
    },
    async (request) => {
      const principal = requireAccount(request);
      return listOrganizations(platform.database.read, principal.userId, request.query.limit, request.query.cursor, {
        // An API key acts in the organization it was made in, and sees no other.
        only: principal.kind === "api_key" ? principal.organizationId : null,
      });
    },
  );

  app.post(
    "/organizations",
    {
      schema: {
        tags,
        summary: "Create an organization; the caller becomes its owner",
        body: StrictObject({ name: Label(200) }),
        response: { 201: Organization },
      },
    },
    async (request, reply) =>
      // A person's act: an API key works in the organization it was made in and makes no others.
      reply.status(201).send(await createOrganization(db, requireUser(request).userId, request.body.name)),
  );

  app.get(
    "/organizations/:organizationId",
    {
      schema: {
        tags,
        params: Type.Object({ organizationId: Id }),
        response: { 200: Organization, 404: Type.Ref("ErrorResponse") },
      },
    },
    async (request) => {
      const { organizationId } = request.params;
      return getOrganization(db, callerIn(request, organizationId).userId, organizationId);
    },
  );

  app.patch(
    "/organizations/:organizationId",
    {
      schema: {
        tags,
        summary: "Rename or change settings (admins and owners)",
        params: Type.Object({ organizationId: Id }),
        body: StrictObject({
          name: Type.Optional(Label(200)),
          settings: Type.Optional(Settings),
        }),
        response: { 200: Organization },
      },
    },
    async (request) => {
      const { organizationId } = request.params;
      const principal = callerIn(request, organizationId, { admin: true });
      const updated = await updateOrganization(db, principal.userId, organizationId, request.body);
      await forgetOrganizationLimits(platform, updated.id);
      return updated;
    },
  );

  app.get(
    "/organizations/:organizationId/members",
    {
      schema: {
        tags,
        params: Type.Object({ organizationId: Id }),
        querystring: ListQuery,
        response: { 200: pageOf(Member) },
      },
    },
    async (request) => {
      const { organizationId } = request.params;
      const principal = callerIn(request, organizationId);
      return listMembers(db, principal.userId, organizationId, request.query.limit, request.query.cursor);
    },
  );

  app.post(
    "/organizations/:organizationId/members",
    {
      schema: {
        tags,
        summary: "Add an existing user by email (admins add members and admins; owners add owners)",
        params: Type.Object({ organizationId: Id }),
        body: StrictObject({ email: Type.String({ format: "email", maxLength: 254 }), role: Role }),
        response: { 201: Member },
      },
    },
    async (request, reply) => {
      const principal = callerIn(request, request.params.organizationId, { admin: true });
      const member = await addMember(db, principal.userId, request.params.organizationId, request.body);
      await platform.identity.forgetRole(member.userId, request.params.organizationId);
      return reply.status(201).send(member);
    },
  );

  app.patch(
    "/organizations/:organizationId/members/:userId",
    {
      schema: {
        tags,
        summary: "Change a member's role",
        params: Type.Object({ organizationId: Id, userId: Id }),
        body: StrictObject({ role: Role }),
        response: { 200: Member },
      },
    },
    async (request) => {
      const { userId, organizationId } = request.params;
      const principal = callerIn(request, organizationId, { admin: true });
      const member = await changeRole(db, principal.userId, organizationId, userId, request.body.role);
      await platform.identity.forgetRole(userId, organizationId);
      return member;
    },
  );

  app.delete(
    "/organizations/:organizationId/members/:userId",
    {
      schema: {
        tags,
        summary: "Remove a member (or leave, when it is the caller)",
        params: Type.Object({ organizationId: Id, userId: Id }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { userId, organizationId } = request.params;
      const principal = callerIn(request, organizationId);
      await removeMember(db, principal.userId, organizationId, userId);
      await platform.identity.forgetRole(userId, organizationId);
      return reply.status(204).send(null);
    },
  );
}
