import { Type } from "typebox";
import { errors } from "../../platform/errors/catalog.ts";
import { updatePreferences } from "../../platform/identity/accounts.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { requireAccount } from "../principal.ts";
import { StrictObject } from "../schemas.ts";
import { UserSchema } from "./auth.ts";

const Preferences = Type.Object({
  theme: Type.String(),
  fontSize: Type.Integer(),
  language: Type.String(),
  timezone: Type.String(),
  defaultPromptCategories: Type.Array(Type.String()),
  notificationSettings: Type.Record(Type.String(), Type.Unknown()),
  privacySettings: Type.Record(Type.String(), Type.Unknown()),
  updatedAt: Type.String(),
});

/** Seed 000's UserPreferences merged with seed 001's user preferences. */
const PreferencesPatch = StrictObject({
  theme: Type.Optional(Type.Union([Type.Literal("system"), Type.Literal("light"), Type.Literal("dark")])),
  fontSize: Type.Optional(Type.Integer({ minimum: 8, maximum: 48 })),
  language: Type.Optional(Type.String({ pattern: "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", maxLength: 35 })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_+\\-/]+$" })),
  defaultPromptCategories: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 50 })),
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
        summary: "The caller's account, active organization and role",
        response: {
          200: Type.Object({
            user: UserSchema,
            organizationId: Type.String(),
            role: Type.String(),
            authenticatedBy: Type.String(),
          }),
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
    { schema: { tags: ["account"], summary: "The caller's preferences", response: { 200: Preferences } } },
    async (request) => (await identity.profile(requireAccount(request).userId)).preferences,
  );

  app.patch(
    "/me/preferences",
    {
      schema: {
        tags: ["account"],
        summary: "Change some preferences; nested settings merge into what is stored",
        body: PreferencesPatch,
        response: { 200: Preferences },
      },
    },
    async (request) => {
      const { userId } = requireAccount(request);
      const updated = await updatePreferences(platform.database.db, userId, request.body);
      if (!updated) throw errors.userNotFound();
      await identity.forgetProfile(userId);
      return updated;
    },
  );
}
