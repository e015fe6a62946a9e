import { Type } from "typebox";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { requirePrincipal } from "../principal.ts";
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

/** /v1/organizations and their members. A non-member sees 404 for any of them. */
export function registerOrganizationRoutes(app: App, platform: Platform) {
  const { organizations } = platform.identity;
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
    async (request) => organizations.list(requirePrincipal(request), request.query.limit, request.query.cursor),
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
      reply.status(201).send(await organizations.create(requirePrincipal(request), request.body.name)),
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
    async (request) => organizations.get(requirePrincipal(request), request.params.organizationId),
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
    async (request) => organizations.update(requirePrincipal(request), request.params.organizationId, request.body),
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
        summary: "Add an existing user by email (admins add members and admins; owners add owners)",
        params: Type.Object({ organizationId: Id }),
        body: StrictObject({ email: Type.String({ format: "email", maxLength: 254 }), role: Role }),
        response: { 201: Member },
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
        summary: "Change a member's role",
        params: Type.Object({ organizationId: Id, userId: Id }),
        body: StrictObject({ role: Role }),
        response: { 200: Member },
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
        summary: "Remove a member (or leave, when it is the caller)",
        params: Type.Object({ organizationId: Id, userId: Id }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { organizationId, userId } = request.params;
      await organizations.removeMember(requirePrincipal(request), organizationId, userId);
      return reply.status(204).send(null);
    },
  );
}
