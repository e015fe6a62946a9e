import { errorShape } from "./errors.ts";
import type { StrataSession, TokenStore } from "./tokens.ts";

/** The fetch openapi-fetch calls: one Request in, one Response out. */
export type FetchFunction = (request: Request) => Promise<Response>;

/** Exchanges a session's refresh token: the next session, or the response that refused it and its body. */
export type RefreshFunction = (
  session: StrataSession,
) => Promise<{ session: StrataSession } | { refused: Response; body: string }>;

/** A refusal kept as data, so that every request waiting on one refresh gets a Response of its own. */
interface Refusal {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: string;
}

type RefreshOutcome = { ok: true; accessToken: string } | { ok: false; refusal: Refusal | null };

/**
 * The client's transport: every request carries the stored session's
 * token (unless the caller set Authorization itself), and a request refused
 * with 401 `token_expired` is sent again once, after a refresh.
 *
 * It wraps fetch rather than being an openapi-fetch middleware so that the
 * request sent again is exactly the one that was sent, after whatever
 * middleware the application added, and so that streamed responses and
 * paginated reads go through the same path.
 *
 * Refresh tokens are single use, and the server ends the whole session when
 * one is presented twice (outside a short grace period). So the refresh is
 * single-flight: every request refused with the same expired token waits
 * for one refresh, keyed by that token. A request whose token was already
 * replaced (by a refresh that finished first, or a new login) is sent again
 * with the stored one, without refreshing. If the server refuses the refresh
 * token for good (expired, revoked, reused, invalid), the store is cleared
 * and each waiting request answers that refusal; a refusal that may pass
 * (429, 503) leaves the store alone and is not remembered.
 */
export function authenticatedFetch(fetch: FetchFunction, tokens: TokenStore, refresh: RefreshFunction): FetchFunction {
  let last: { from: string; outcome: Promise<RefreshOutcome> } | null = null;

  function refreshOnce(expired: StrataSession): Promise<RefreshOutcome> {
    if (last?.from === expired.accessToken) return last.outcome;
    const entry = { from: expired.accessToken, outcome: runRefresh(expired) };
    last = entry;
    const forget = () => {
      if (last === entry) last = null;
    };
    entry.outcome.then((outcome) => {
      if (!outcome.ok && outcome.refusal && isTransient(outcome.refusal.status)) forget();
    }, forget);
    return entry.outcome;
  }

  async function runRefresh(expired: StrataSession): Promise<RefreshOutcome> {
    const current = await tokens.get();
    if (current && current.accessToken !== expired.accessToken) return { ok: true, accessToken: current.accessToken };
    if (!current?.refreshToken) return { ok: false, refusal: null };
    const result = await refresh(current);
    if ("session" in result) {
      await tokens.set(result.session);
      return { ok: true, accessToken: result.session.accessToken };
    }
    const refused = result.refused;
    const refusal: Refusal = {
      status: refused.status,
      statusText: refused.statusText,
      headers: [...refused.headers],
      body: result.body,
    };
    if (!isTransient(refused.status)) {
      // Clear only the session that failed: a login that finished meanwhile stays.
      if ((await tokens.get())?.accessToken === current.accessToken) await tokens.set(null);
    }
    return { ok: false, refusal };
  }

  return async function send(request: Request): Promise<Response> {
    if (request.headers.has("authorization")) return fetch(request);
    const session = await tokens.get();
    if (!session) return fetch(request);
    request.headers.set("authorization", `Bearer ${session.accessToken}`);
    // Kept before sending, since sending consumes the body; only a session that can be refreshed needs it.
    const again = session.refreshToken ? request.clone() : null;
    const response = await fetch(request);
    if (!again || response.status !== 401) return response;
    const body = await response.text();
    if (errorCodeOf(body) !== "token_expired") return rebuilt(response, body);
    const outcome = await refreshOnce(session);
    if (outcome.ok) {
      again.headers.set("authorization", `Bearer ${outcome.accessToken}`);
      return fetch(again);
    }
    if (!outcome.refusal) return rebuilt(response, body);
    const { status, statusText, headers, body: refusedBody } = outcome.refusal;
    return new Response(refusedBody, { status, statusText, headers });
  };
}

function isTransient(status: number): boolean {
  return status === 429 || status >= 500;
}

function errorCodeOf(body: string): string | null {
  try {
    return errorShape(JSON.parse(body))?.code ?? null;
  } catch {
    return null;
  }
}

/** The response again, its body (already read) included. */
function rebuilt(response: Response, body: string): Response {
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
