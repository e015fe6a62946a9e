import { Type } from "typebox";
import { errors } from "../../platform/errors/catalog.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { requirePrincipal, requireUser } from "../principal.ts";
import { Label, ListQuery, pageOf, StrictObject } from "../schemas.ts";

const ApiKey = Type.Object({
  id: Type.String({ format: "uuid" }),
  name: Type.String(),
  prefix: Type.String({ description: "The key's public start, to recognise it; the secret is never shown again." }),
  scopes: Type.Array(Type.String()),
  organizationId: Type.String(),
  userId: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const Scope = Type.Union([Type.Literal("read"), Type.Literal("write"), Type.Literal("admin")]);

/** /v1/api-keys: keys for server-to-server calls, in the caller's active organization. */
export function registerApiKeyRoutes(app: App, platform: Platform) {
  const { identity } = platform;
  const tags = ["api keys"];

  app.get(
    "/api-keys",
    {
      schema: {
        tags,
        summary: "Keys of the active organization (members see their own)",
        querystring: ListQuery,
        response: { 200: pageOf(ApiKey) },
      },
    },
    async (request) => identity.listApiKeys(requireUser(request), request.query.limit, request.query.cursor),
  );

  app.post(
    "/api-keys",
    {
      schema: {
        tags,
        summary: "Create a key; the response holds the only copy of the secret",
        body: StrictObject({
          name: Label(100),
          scopes: Type.Array(Scope, { minItems: 1, maxItems: 3, uniqueItems: true }),
        }),
        response: { 201: Type.Object({ apiKey: ApiKey, key: Type.String() }) },
      },
    },
    async (request, reply) => {
      return reply.status(201).send(await identity.createApiKey(requireUser(request), request.body));
    },
  );

  app.delete(
    "/api-keys/:keyId",
    {
      schema: {
        tags,
        summary: "Revoke a key",
        params: Type.Object({ keyId: Type.String({ format: "uuid" }) }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      // Keys are managed by people: to an anonymous session or an API key,
      // any key is not found (404, as another user's key is), never a 403
      // that would tell a key it named a real one.
      const principal = requirePrincipal(request);
      if (principal.kind !== "user") throw errors.notFound("api_key");
      await identity.revokeApiKey(principal, request.params.keyId);
      return reply.status(204).send(null);
    },
  );
}
