import { type Static, Type } from "typebox";
import { Label, Nullable, StrictObject, StringEnum, Uuid } from "../schemas.ts";
import { API_KEY_SCOPES, PLANS, ROLES, THEMES, USER_STATUSES } from "./tables.ts";

/**
 * Identity's resources as the API shows them, declared once: the routes
 * answer with these schemas (and the OpenAPI document is made from them),
 * and the view types the services return are derived from them, so a view
 * that drifts from its schema does not compile. views.ts maps rows onto
 * them. Timestamps are ISO 8601 strings.
 */

export const Role = StringEnum(ROLES);
export const ApiKeyScope = StringEnum(API_KEY_SCOPES);
const Theme = StringEnum(THEMES);

// --- users and their preferences -------------------------------------------

export const User = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  status: StringEnum(USER_STATUSES),
  isVerified: Type.Boolean(),
  personalOrganizationId: Uuid,
  lastLoginAt: Nullable(Type.String()),
  createdAt: Type.String(),
});
export type UserView = Static<typeof User>;

export const Preferences = Type.Object(
  {
    theme: Theme,
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
export type PreferencesView = Static<typeof Preferences>;

/** A change to some preferences (seed 000's UserPreferences merged with seed 001's user preferences). */
export const PreferencesPatch = StrictObject({
  theme: Type.Optional(Theme),
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
export type PreferencesPatchInput = Static<typeof PreferencesPatch>;

/** GET /v1/me: the account, and how the caller acts (organization, role, credential). */
export const Me = Type.Object(
  {
    user: User,
    organizationId: Type.String(),
    role: Role,
    authenticatedBy: StringEnum(["user", "api_key"]),
  },
  { description: "The caller's account." },
);
export type MeView = Static<typeof Me>;

// --- sessions and tokens ---------------------------------------------------

/** An anonymous session's token. */
export const AnonymousToken = Type.Object(
  {
    accessToken: Type.String({ description: "Send as Authorization: Bearer." }),
    expiresAt: Type.String(),
  },
  { description: "The session's token; it is extended as it is used." },
);
export type AnonymousTokenView = Static<typeof AnonymousToken>;

/** A user session's tokens, as login, registration and refresh issue them. */
export const Tokens = Type.Object({
  organizationId: Type.String({ format: "uuid", description: "The organization the access token acts in." }),
  accessToken: Type.String({ description: "JWT; send as Authorization: Bearer." }),
  expiresAt: Type.String({ description: "When the access token expires." }),
  refreshToken: Type.String({ description: "Single use: each refresh returns a new one." }),
  refreshExpiresAt: Type.String(),
});
export type TokensView = Static<typeof Tokens>;

/** Registration or login: the account and its new session's tokens. */
export const SignedIn = Type.Object({ user: User, ...Tokens.properties });
export type SignedInView = Static<typeof SignedIn>;

// --- organizations and members ---------------------------------------------

export const Organization = Type.Object({
  id: Uuid,
  name: Type.String(),
  plan: StringEnum(PLANS),
  isPersonal: Type.Boolean(),
  settings: Type.Record(Type.String(), Type.Unknown()),
  role: Role,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type OrganizationView = Static<typeof Organization>;

export const Member = Type.Object({
  userId: Uuid,
  email: Type.String(),
  name: Type.String(),
  role: Role,
  joinedAt: Type.String(),
});
export type MemberView = Static<typeof Member>;

// --- API keys ----------------------------------------------------------------

export const ApiKey = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: "The key's public start, to recognise it; the secret is never shown again." }),
  scopes: Type.Array(ApiKeyScope),
  organizationId: Type.String(),
  userId: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
});
export type ApiKeyView = Static<typeof ApiKey>;

/** A key just made, with the only copy of its secret. */
export const NewApiKey = Type.Object(
  { apiKey: ApiKey, key: Type.String({ description: "The secret; send as Authorization: Bearer." }) },
  { description: "The new key and its secret, shown this once." },
);
export type NewApiKeyView = Static<typeof NewApiKey>;
