import { Type } from "typebox";
import { AnonymousToken, SignedIn, Tokens } from "../../platform/identity/schemas.ts";
import { Label, StrictObject } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_ADMIN_OR_USER, WRITE_ROUTE } from "../error-responses.ts";
import { BEARER, described, OPTIONAL_BEARER, PUBLIC } from "../openapi.ts";
import { requireUser } from "../principal.ts";

const Email = Type.String({ format: "email", maxLength: 254, description: "Compared case-insensitively." });
const Password = Type.String({ minLength: 1, maxLength: 256 });

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
        operationId: "startAnonymousSession",
        summary: "Start an anonymous session (24 h, sliding)",
        security: PUBLIC,
        response: {
          201: AnonymousToken,
          ...errorResponses(...WRITE_ROUTE),
        },
      },
    },
    async (_request, reply) => reply.status(201).send(await identity.startAnonymous()),
  );

  app.post(
    "/auth/register",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        operationId: "register",
        summary: "Create an account (and claim the anonymous session in Authorization, if any)",
        security: OPTIONAL_BEARER,
        body: StrictObject({
          email: Email,
          password: Password,
          name: Type.Optional(Label(200, { description: "Defaults to the email address's local part." })),
        }),
        response: {
          201: described(SignedIn, "The new account, signed in."),
          ...errorResponses(...WRITE_ROUTE, "validation_failed", "email_taken", "ownership_transfer_failed"),
        },
      },
    },
    async (request, reply) => {
      const result = await identity.register(
        request.body,
        anonymousToken(request.principal, request.headers.authorization),
        meta(request),
      );
      return reply.status(201).send(result);
    },
  );

  app.post(
    "/auth/login",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        operationId: "login",
        summary: "Log in (and claim the anonymous session in Authorization, if any)",
        security: OPTIONAL_BEARER,
        body: StrictObject({ email: Email, password: Password }),
        response: {
          200: described(SignedIn, "Signed in."),
          ...errorResponses(
            ...WRITE_ROUTE,
            "validation_failed",
            "invalid_credentials",
            "account_disabled",
            "ownership_transfer_failed",
          ),
        },
      },
    },
    async (request) =>
      identity.login(request.body, anonymousToken(request.principal, request.headers.authorization), meta(request)),
  );

  app.post(
    "/auth/refresh",
    {
      config: { rateLimit: "auth" },
      schema: {
        tags: ["auth"],
        operationId: "refreshTokens",
        summary: "Exchange a refresh token for new tokens; optionally switch organization",
        security: PUBLIC,
        body: StrictObject({
          refreshToken: Type.String({ minLength: 1, maxLength: 200 }),
          organizationId: Type.Optional(Type.String({ format: "uuid" })),
        }),
        response: {
          200: described(Tokens, "New tokens; the refresh token sent is used up."),
          ...errorResponses(
            ...WRITE_ROUTE,
            "validation_failed",
            "refresh_token_invalid",
            "refresh_token_expired",
            "refresh_token_reused",
            "account_disabled",
            "organization_not_found",
          ),
        },
      },
    },
    async (request) => identity.refresh(request.body.refreshToken, request.body.organizationId),
  );

  app.post(
    "/auth/logout",
    {
      config: { rateLimit: "api" },
      schema: {
        tags: ["auth"],
        operationId: "logout",
        summary: "End this session (or, with ?allSessions=true, every session of the user)",
        security: BEARER,
        querystring: Type.Object({ allSessions: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: {
          204: Type.Null({ description: "Ended." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ADMIN_OR_USER, "validation_failed"),
        },
      },
    },
    async (request, reply) => {
      await identity.logout(requireUser(request), request.query.allSessions ?? false);
      return reply.status(204).send(null);
    },
  );
}
