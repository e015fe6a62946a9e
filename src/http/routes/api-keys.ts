import { Type } from "typebox";
import { errors } from "../../platform/errors/catalog.ts";
import { ApiKey, ApiKeyScope, NewApiKey } from "../../platform/identity/schemas.ts";
import { Label, ListQuery, pageOf, StrictObject, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_ADMIN_OR_USER, READ_ROUTE, WRITE_ROUTE } from "../error-responses.ts";
import { BEARER, described } from "../openapi.ts";
import { requirePrincipal, requireUser } from "../principal.ts";

/** /v1/api-keys: keys for server-to-server calls, in the caller's active organization. */
export function registerApiKeyRoutes(app: App, platform: Platform) {
  const { identity } = platform;
  const tags = ["api keys"];

  app.get(
    "/api-keys",
    {
      schema: {
        tags,
        operationId: "listApiKeys",
        summary: "Keys of the active organization (members see their own)",
        security: BEARER,
        querystring: ListQuery,
        response: {
          200: described(pageOf(ApiKey), "A page of keys, oldest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ADMIN_OR_USER, "validation_failed"),
        },
      },
    },
    async (request) => identity.listApiKeys(requireUser(request), request.query.limit, request.query.cursor),
  );

  app.post(
    "/api-keys",
    {
      schema: {
        tags,
        operationId: "createApiKey",
        summary: "Create a key; the response holds the only copy of the secret",
        security: BEARER,
        body: StrictObject({
          name: Label(100),
          scopes: Type.Array(ApiKeyScope, { minItems: 1, maxItems: 3, uniqueItems: true }),
        }),
        response: {
          201: NewApiKey,
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ADMIN_OR_USER, "validation_failed", "insufficient_role"),
        },
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
        operationId: "revokeApiKey",
        summary: "Revoke a key",
        security: BEARER,
        params: Type.Object({ keyId: Uuid }),
        response: {
          204: Type.Null({ description: "Revoked (or already revoked)." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ADMIN_OR_USER, "validation_failed", "api_key_not_found"),
        },
      },
    },
    async (request, reply) => {
      // Keys are managed by people: to an anonymous session or an API key,
      // any key is not found (404, as another user's key is), never a 403
      // that would tell a key it named a real one.
      const principal = requirePrincipal(request);
      if (principal.kind !== "user") throw errors.apiKeyNotFound();
      await identity.revokeApiKey(principal, request.params.keyId);
      return reply.status(204).send(null);
    },
  );
}
