import { Type } from "typebox";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, NEEDS_ACCOUNT, READ_ROUTE, WRITE_ROUTE } from "../error-responses.ts";
import { BEARER, described } from "../openapi.ts";
import { requireAccount } from "../principal.ts";
import { Label, StrictObject, StringEnum } from "../schemas.ts";
import { UserSchema } from "./auth.ts";

const Preferences = Type.Object(
  {
    theme: Type.String(),
    fontSize: Type.Integer(),
    language: Type.String(),
    timezone: Type.String(),
    defaultPromptCategories: Type.Array(Type.String()),
    notificationSettings: Type.Record(Type.String(), Type.Unknown()),
    privacySettings: Type.Record(Type.String(), Type.Unknown()),
    updatedAt: Type.String(),
  },
  { description: "The caller's preferences." },
);

/** Seed 000's UserPreferences merged with seed 001's user preferences. */
const PreferencesPatch = StrictObject({
  theme: Type.Optional(StringEnum(["system", "light", "dark"])),
  fontSize: Type.Optional(Type.Integer({ minimum: 8, maximum: 48 })),
  language: Type.Optional(Type.String({ pattern: "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", maxLength: 35 })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_+\\-/]+$" })),
  defaultPromptCategories: Type.Optional(Type.Array(Label(64), { maxItems: 50 })),
  notificationSettings: Type.Optional(
    StrictObject({
      email: Type.Optional(Type.Boolean()),
      slack: Type.Optional(Type.Boolean()),
      inApp: Type.Optional(Type.Boolean()),
    }),
  ),
  privacySettings: Type.Optional(
    StrictObject({
      shareUsageData: Type.Optional(Type.Boolean()),
      allowTraining: Type.Optional(Type.Boolean()),
      publicProfile: Type.Optional(Type.Boolean()),
    }),
  ),
});

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
          200: Type.Object(
            {
              user: UserSchema,
              organizationId: Type.String(),
              role: StringEnum(["owner", "admin", "member"]),
              authenticatedBy: StringEnum(["user", "api_key"]),
            },
            { description: "The caller's account." },
          ),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "user_not_found"),
        },
      },
    },
    async (request) => {
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
