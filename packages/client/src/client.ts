import createClient, { type Client, type HeadersOptions } from "openapi-fetch";
import type { paths } from "./api-types.ts";
import { type AuthHelpers, authHelpers, userSession } from "./auth.ts";
import { authenticatedFetch, type FetchFunction } from "./auth-fetch.ts";
import { type Paginators, paginators } from "./pagination.ts";
import {
  type StreamOptions,
  type SuggestionEvent,
  type SuggestionRequest,
  streamSuggestion,
} from "./suggestion-stream.ts";
import { memoryTokenStore, type TokenStore } from "./tokens.ts";

export interface StrataClientOptions {
  /** Where the API is: `http://localhost:8080` (paths in the document start with /v1). */
  baseUrl: string;
  /** The fetch to send requests with; the global one by default. */
  fetch?: FetchFunction;
  /** Where the session is kept; in memory by default. */
  tokens?: TokenStore;
  /** Headers every request carries. */
  headers?: HeadersOptions;
}

/**
 * The typed openapi-fetch client (`GET`, `POST`, … keyed by the document's
 * paths) with the session handled for it, plus helpers.
 */
export type StrataClient = Client<paths> &
  Paginators & {
    auth: AuthHelpers;
    /** The store the session is kept in. */
    tokens: TokenStore;
    /** Asks for a suggestion and yields its server-sent events as they arrive. */
    streamSuggestion(
      documentId: string,
      body: SuggestionRequest,
      options?: StreamOptions,
    ): AsyncGenerator<SuggestionEvent, void, undefined>;
  };

export function createStrataClient(options: StrataClientOptions): StrataClient {
  const tokens = options.tokens ?? memoryTokenStore();
  // Called unbound, the browser's fetch refuses to run.
  const baseFetch: FetchFunction = options.fetch ?? ((request) => globalThis.fetch(request));
  const common = { baseUrl: options.baseUrl, ...(options.headers ? { headers: options.headers } : {}) };
  const raw = createClient<paths>({ ...common, fetch: baseFetch });
  const api = createClient<paths>({
    ...common,
    fetch: authenticatedFetch(baseFetch, tokens, async (session) => {
      const { data, error, response } = await raw.POST("/v1/auth/refresh", {
        body: { refreshToken: session.refreshToken ?? "" },
      });
      if (response.ok && data) return { session: userSession(data) };
      return { refused: response, body: typeof error === "string" ? error : (JSON.stringify(error) ?? "") };
    }),
  });
  return {
    ...api,
    ...paginators(api),
    auth: authHelpers(raw, api, tokens),
    tokens,
    streamSuggestion: (documentId, body, streamOptions) => streamSuggestion(api, documentId, body, streamOptions),
  };
}
