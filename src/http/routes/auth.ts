import { Type } from "typebox";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { requireUser } from "../principal.ts";
import { Label, StrictObject } from "../schemas.ts";

const Email = Type.String({ format: "email", maxLength: 254, description: "Compared case-insensitively." });
const Password = Type.String({ minLength: 1, maxLength: 256 });

export const UserSchema = Type.Object({
  id: Type.String({ format: "uuid" }),
  email: Type.String(),
  name: Type.String(),
  status: Type.String(),
  isVerified: Type.Boolean(),
  personalOrganizationId: Type.String({ format: "uuid" }),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
});

const Tokens = {
  organizationId: Type.String({ format: "uuid", description: "The organization the access token acts in." }),
  accessToken: Type.String({ description: "JWT; send as Authorization: Bearer." }),
  expiresAt: Type.String({ description: "When the access token expires." }),
  refreshToken: Type.String({ description: "Single use: each refresh returns a new one." }),
  refreshExpiresAt: Type.String(),
};
const AuthResponse = Type.Object({ user: UserSchema, ...Tokens });

const errorRefs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, Type.Ref("ErrorResponse")]));

/**
 * /v1/auth: anonymous sessions, registration, login, refresh, logout. All of
 * these are limited per client IP ("auth" class) and fail closed when the
 * key-value store is down. Registering or logging in with an anonymous
 * session's token in Authorization moves that session's data to the account.
 */
export function registerAuthRoutes(app: App, platform: Platform) {
  const { identity } = platform;
  const meta = (request: { ip: string; headers: Record<string, unknown> }) => ({
    ipAddress: request.ip,
    userAgent: typeof request.headers["user-agent"] === "string" ? request.headers["user-agent"] : null,
  });
  const anonymousToken = (principal: { kind: string } | null, authorization: string | undefined) =>
    principal?.kind === "anonymous" && authorization ? authorization.slice("Bearer ".length) : null;

  app.post(
    "/auth/anonymous",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        summary: "Start an anonymous session (24 h, sliding)",
        response: {
          201: Type.Object({ accessToken: Type.String(), expiresAt: Type.String() }),
          ...errorRefs(429, 503),
        },
      },
    },
    async (_request, reply) => {
      const session = await identity.startAnonymous();
      return reply.status(201).send({ accessToken: session.accessToken, expiresAt: session.expiresAt.toISOString() });
    },
  );

  app.post(
    "/auth/register",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        summary: "Create an account (and claim the anonymous session in Authorization, if any)",
        body: StrictObject({
          email: Email,
          password: Password,
          name: Type.Optional(Label(200, { description: "Defaults to the email address's local part." })),
        }),
        response: { 201: AuthResponse, ...errorRefs(400, 401, 409, 429, 503) },
      },
    },
    async (request, reply) => {
      const result = await identity.register(
        request.body,
        anonymousToken(request.principal, request.headers.authorization),
        meta(request),
      );
      return reply.status(201).send(authBody(result));
    },
  );

  app.post(
    "/auth/login",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        summary: "Log in (and claim the anonymous session in Authorization, if any)",
        body: StrictObject({ email: Email, password: Password }),
        response: { 200: AuthResponse, ...errorRefs(400, 401, 403, 429, 503) },
      },
    },
    async (request) =>
      authBody(
        await identity.login(
          request.body,
          anonymousToken(request.principal, request.headers.authorization),
          meta(request),
        ),
      ),
  );

  app.post(
    "/auth/refresh",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        summary: "Exchange a refresh token for new tokens; optionally switch organization",
        body: StrictObject({
          refreshToken: Type.String({ minLength: 1, maxLength: 200 }),
          organizationId: Type.Optional(Type.String({ format: "uuid" })),
        }),
        response: { 200: Type.Object(Tokens), ...errorRefs(400, 401, 404, 429, 503) },
      },
    },
    async (request) => {
      const result = await identity.refresh(request.body.refreshToken, request.body.organizationId);
      return {
        ...result,
        expiresAt: result.expiresAt.toISOString(),
        refreshExpiresAt: result.refreshExpiresAt.toISOString(),
      };
    },
  );

  app.post(
    "/auth/logout",
    {
      config: { rateLimit: "api" },
      schema: {
        tags: ["auth"],
        summary: "End this session (or, with ?allSessions=true, every session of the user)",
        querystring: Type.Object({ allSessions: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorRefs(401, 403) },
      },
    },
    async (request, reply) => {
      await identity.logout(requireUser(request), request.query.allSessions ?? false);
      return reply.status(204).send(null);
    },
  );
}

function authBody(result: Awaited<ReturnType<Platform["identity"]["login"]>>) {
  return {
    ...result,
    expiresAt: result.expiresAt.toISOString(),
    refreshExpiresAt: result.refreshExpiresAt.toISOString(),
  };
}
