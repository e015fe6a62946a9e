/**
 * What the client keeps between requests: a signed-in user's tokens, or an
 * anonymous session's. Anonymous sessions have no refresh token; they slide
 * with use on the server.
 */
export interface StrataSession {
  kind: "user" | "anonymous";
  accessToken: string;
  /** When the access token expires (ISO 8601). */
  expiresAt: string;
  /** Null for an anonymous session. Single use: every refresh stores the next one. */
  refreshToken: string | null;
  refreshExpiresAt: string | null;
  /** The organization the access token acts in; null for an anonymous session. */
  organizationId: string | null;
}

/**
 * Where the client keeps its session: in memory by default; a browser app
 * might keep it in localStorage, a CLI in a file. Either method may be
 * asynchronous. Every client sharing a store should be one client: the
 * single-flight refresh is per client, and two clients refreshing the same
 * refresh token at once would spend it twice.
 */
export interface TokenStore {
  get(): StrataSession | null | Promise<StrataSession | null>;
  set(session: StrataSession | null): void | Promise<void>;
}

/** A store that keeps the session in this object only. */
export function memoryTokenStore(initial: StrataSession | null = null): TokenStore {
  let session = initial;
  return {
    get: () => session,
    set: (next) => {
      session = next;
    },
  };
}
