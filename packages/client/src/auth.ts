import type { Client } from "openapi-fetch";
import type { paths, RequestBody, ResponseBody } from "./api-types.ts";
import { errorShape, StrataError, unwrap } from "./errors.ts";
import type { StrataSession, TokenStore } from "./tokens.ts";

type SignedIn = ResponseBody<"/v1/auth/login", "post">;
type Refreshed = ResponseBody<"/v1/auth/refresh", "post">;

/** The client's `auth`: sign-in and session helpers that keep the token store up to date. */
export interface AuthHelpers {
  /**
   * Starts an anonymous session and keeps its token: what the visitor makes
   * is theirs, and `register` or `login` later moves it to the account.
   */
  anonymous(): Promise<ResponseBody<"/v1/auth/anonymous", "post">>;
  /** Creates an account and signs in, claiming the stored anonymous session if there is one. */
  register(body: RequestBody<"/v1/auth/register", "post">): Promise<ResponseBody<"/v1/auth/register", "post">>;
  /** Signs in, claiming the stored anonymous session if there is one. */
  login(body: RequestBody<"/v1/auth/login", "post">): Promise<SignedIn>;
  /**
   * Ends the session on the server (every session of the user with
   * `allSessions`) and forgets it here. The stored session is forgotten even
   * when the server cannot be told; the error is thrown then.
   */
  logout(options?: { allSessions?: boolean }): Promise<void>;
  /** The stored session, if any. */
  session(): Promise<StrataSession | null>;
}

/**
 * `raw` is a client without the auth transport: sign-in requests carry only
 * the Authorization they are given (an anonymous session's token, to claim
 * it), never an expired user token that would refuse them.
 */
export function authHelpers(raw: Client<paths>, api: Client<paths>, tokens: TokenStore): AuthHelpers {
  async function signIn<R extends { data?: SignedIn; error?: unknown; response: Response }>(
    call: (headers: { Authorization: string } | undefined) => Promise<R>,
  ): Promise<SignedIn> {
    const stored = await tokens.get();
    const claim = stored?.kind === "anonymous" ? { Authorization: `Bearer ${stored.accessToken}` } : undefined;
    let result = await call(claim);
    if (claim && errorShape(result.error)?.code === "anonymous_session_expired") {
      // The session is gone (expired, or claimed already): nothing is left to claim.
      await tokens.set(null);
      result = await call(undefined);
    }
    const data = (await unwrap(result)) as SignedIn;
    await tokens.set(userSession(data));
    return data;
  }

  return {
    async anonymous() {
      const data = await unwrap(raw.POST("/v1/auth/anonymous"));
      await tokens.set({
        kind: "anonymous",
        accessToken: data.accessToken,
        expiresAt: data.expiresAt,
        refreshToken: null,
        refreshExpiresAt: null,
        organizationId: null,
      });
      return data;
    },
    register: (body) => signIn((headers) => raw.POST("/v1/auth/register", { body, headers })),
    login: (body) => signIn((headers) => raw.POST("/v1/auth/login", { body, headers })),
    async logout(options = {}) {
      const stored = await tokens.get();
      if (!stored) return;
      try {
        // An anonymous session has nothing to end on the server; it expires there.
        if (stored.kind !== "user") return;
        const result = await api.POST("/v1/auth/logout", {
          params: { query: options.allSessions ? { allSessions: true } : {} },
        });
        // 401: the session had ended already, which is what was asked.
        if (!result.response.ok && result.response.status !== 401) {
          throw await StrataError.fromResponse(result.response, result.error);
        }
      } finally {
        await tokens.set(null);
      }
    },
    session: async () => tokens.get(),
  };
}

/** The session a sign-in or a refresh answers. */
export function userSession(data: SignedIn | Refreshed): StrataSession {
  return {
    kind: "user",
    accessToken: data.accessToken,
    expiresAt: data.expiresAt,
    refreshToken: data.refreshToken,
    refreshExpiresAt: data.refreshExpiresAt,
    organizationId: data.organizationId,
  };
}
