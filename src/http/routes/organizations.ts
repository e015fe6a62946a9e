import { Type } from "typebox";
import { Member, Organization, Role } from "../../platform/identity/schemas.ts";
import { Label, ListQuery, pageOf, StrictObject, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_ADMIN_OR_USER, READ_ROUTE, WRITE_ROUTE } from "../error-responses.ts";
import { BEARER, described } from "../openapi.ts";
import { requirePrincipal } from "../principal.ts";

/** Seed 001's organization settings, in camelCase. */
const Settings = StrictObject({
  maxContextsPerDay: Type.Optional(Type.Integer({ minimum: 0 })),
  maxBatchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
  allowedModels: Type.Optional(Type.Array(Label(100), { maxItems: 100 })),
  defaultPipelineId: Type.Optional(Uuid),
  // rate_limits is deliberately absent: limits are the operator's to raise
  // (plan, or settings.rate_limits set by an operator), never a tenant's.
});

/** /v1/organizations and their members. A non-member sees 404 for any of them. */
export function registerOrganizationRoutes(app: App, platform: Platform) {
  const { organizations } = platform.identity;
  const tags = ["organizations"];

  app.get(
    "/organizations",
    {
      schema: {
        tags,
        operationId: "listOrganizations",
        summary: "Organizations the caller belongs to",
        security: BEARER,
        querystring: ListQuery,
        response: {
          200: described(pageOf(Organization), "A page of organizations, oldest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) => organizations.list(requirePrincipal(request), request.query.limit, request.query.cursor),
  );

  app.post(
    "/organizations",
    {
      schema: {
        tags,
        operationId: "createOrganization",
        summary: "Create an organization; the caller becomes its owner",
        security: BEARER,
        body: StrictObject({ name: Label(200) }),
        response: {
          201: described(Organization, "The new organization."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "insufficient_scope", "validation_failed"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await organizations.create(requirePrincipal(request), request.body.name)),
  );

  app.get(
    "/organizations/:organizationId",
    {
      schema: {
        tags,
        operationId: "getOrganization",
        summary: "One of the caller's organizations, with the caller's role in it",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid }),
        response: {
          200: described(Organization, "The organization."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed", "organization_not_found"),
        },
      },
    },
    async (request) => organizations.get(requirePrincipal(request), request.params.organizationId),
  );

  app.patch(
    "/organizations/:organizationId",
    {
      schema: {
        tags,
        operationId: "updateOrganization",
        summary: "Rename or change settings (admins and owners)",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid }),
        body: StrictObject({
          name: Type.Optional(Label(200)),
          settings: Type.Optional(Settings),
        }),
        response: {
          200: described(Organization, "The organization as it now is."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ADMIN_OR_USER,
            "validation_failed",
            "organization_not_found",
            "insufficient_role",
          ),
        },
      },
    },
    async (request) => organizations.update(requirePrincipal(request), request.params.organizationId, request.body),
  );

  app.get(
    "/organizations/:organizationId/members",
    {
      schema: {
        tags,
        operationId: "listMembers",
        summary: "Members of one of the caller's organizations",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid }),
        querystring: ListQuery,
        response: {
          200: described(pageOf(Member), "A page of members, longest-standing first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed", "organization_not_found"),
        },
      },
    },
    async (request) =>
      organizations.listMembers(
        requirePrincipal(request),
        request.params.organizationId,
        request.query.limit,
        request.query.cursor,
      ),
  );

  app.post(
    "/organizations/:organizationId/members",
    {
      schema: {
        tags,
        operationId: "addMember",
        summary: "Add an existing user by email (admins add members and admins; owners add owners)",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid }),
        body: StrictObject({ email: Type.String({ format: "email", maxLength: 254 }), role: Role }),
        response: {
          201: described(Member, "The new member."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ADMIN_OR_USER,
            "validation_failed",
            "organization_not_found",
            "insufficient_role",
            "personal_organization",
            "user_not_found",
            "already_member",
          ),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await organizations.addMember(requirePrincipal(request), request.params.organizationId, request.body)),
  );

  app.patch(
    "/organizations/:organizationId/members/:userId",
    {
      schema: {
        tags,
        operationId: "changeMemberRole",
        summary: "Change a member's role",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid, userId: Uuid }),
        body: StrictObject({ role: Role }),
        response: {
          200: described(Member, "The member with the new role."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ADMIN_OR_USER,
            "validation_failed",
            "organization_not_found",
            "member_not_found",
            "insufficient_role",
            "last_owner",
          ),
        },
      },
    },
    async (request) => {
      const { organizationId, userId } = request.params;
      return organizations.changeRole(requirePrincipal(request), organizationId, userId, request.body.role);
    },
  );

  app.delete(
    "/organizations/:organizationId/members/:userId",
    {
      schema: {
        tags,
        operationId: "removeMember",
        summary: "Remove a member (or leave, when it is the caller)",
        security: BEARER,
        params: Type.Object({ organizationId: Uuid, userId: Uuid }),
        response: {
          204: Type.Null({ description: "Removed." }),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ACCOUNT,
            "validation_failed",
            "organization_not_found",
            "member_not_found",
            "insufficient_role",
            "last_owner",
          ),
        },
      },
    },
    async (request, reply) => {
      const { organizationId, userId } = request.params;
      await organizations.removeMember(requirePrincipal(request), organizationId, userId);
      return reply.status(204).send(null);
    },
  );
}
