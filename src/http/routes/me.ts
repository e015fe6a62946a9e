import { Me, type MeView, Preferences, PreferencesPatch } from "../../platform/identity/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_ACCOUNT, READ_ROUTE, WRITE_ROUTE } from "../error-responses.ts";
import { BEARER, described } from "../openapi.ts";
import { requireAccount } from "../principal.ts";

/** /v1/me: the caller's own account and preferences. */
export function registerMeRoutes(app: App, platform: Platform) {
  const { identity } = platform;

  app.get(
    "/me",
    {
      schema: {
        tags: ["account"],
        operationId: "getMe",
        summary: "The caller's account, active organization and role",
        security: BEARER,
        response: {
          200: Me,
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "user_not_found"),
        },
      },
    },
    async (request): Promise<MeView> => {
      const principal = requireAccount(request);
      const { user } = await identity.profile(principal.userId);
      return { user, organizationId: principal.organizationId, role: principal.role, authenticatedBy: principal.kind };
    },
  );

  app.get(
    "/me/preferences",
    {
      schema: {
        tags: ["account"],
        operationId: "getPreferences",
        summary: "The caller's preferences",
        security: BEARER,
        response: { 200: Preferences, ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "user_not_found") },
      },
    },
    async (request) => (await identity.profile(requireAccount(request).userId)).preferences,
  );

  app.patch(
    "/me/preferences",
    {
      schema: {
        tags: ["account"],
        operationId: "updatePreferences",
        summary: "Change some preferences; nested settings merge into what is stored",
        security: BEARER,
        body: PreferencesPatch,
        response: {
          200: described(Preferences, "The preferences as they now are."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "validation_failed", "user_not_found"),
        },
      },
    },
    async (request) => identity.updatePreferences(requireAccount(request).userId, request.body),
  );
}
