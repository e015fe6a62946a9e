import type {
  ErrorResponseJSON,
  FilterKeys,
  HttpMethod,
  OkStatus,
  PathsWithMethod,
  RequestBodyJSON,
} from "openapi-typescript-helpers";
import type { paths } from "./generated/openapi.ts";

/**
 * Types derived from the generated `paths`, keyed by path and method as
 * openapi-fetch keys them (never by operationId, which a document may or may
 * not declare). Whatever the document says more precisely (a code enum on an
 * error response, an exact response shape), these pick up on regeneration.
 * The `…In<Paths>` forms take any openapi-typescript `paths`; the plain
 * forms are those of Strata's document.
 */

export type { paths };

type AnyPaths = Record<string, any>;

/** The operation at a path and method (`Operation<"/v1/documents", "get">`). */
export type Operation<P extends keyof paths, M extends HttpMethod> = paths[P][M & keyof paths[P]];

/**
 * The JSON body of an operation's success responses. Only JSON: a route that
 * also answers another media type on success (the suggestion route's event
 * stream) contributes its JSON answer alone. (openapi-typescript-helpers'
 * SuccessResponseJSON falls back to a response's whole content when it has
 * no JSON, which would mix the stream's text into the type.)
 */
type SuccessJsonOf<Op> = Op extends { responses: infer R }
  ? { [S in keyof R & OkStatus]: R[S] extends { content: infer C } ? FilterKeys<C, `${string}/json`> : never }[keyof R &
      OkStatus]
  : never;

/** The JSON body a successful call answers. */
export type ResponseBody<P extends keyof paths, M extends HttpMethod> = SuccessJsonOf<Operation<P, M>>;

/** The JSON body a call sends. */
export type RequestBody<P extends keyof paths, M extends HttpMethod> = RequestBodyJSON<Operation<P, M>>;

/** Every error body any operation of `Paths` declares (4xx, 5xx or default). */
export type ErrorBodyIn<Paths extends AnyPaths> = {
  [P in keyof Paths]: {
    [M in HttpMethod]: Paths[P][M] extends Record<string | number, any> ? ErrorResponseJSON<Paths[P][M]> : never;
  }[HttpMethod];
}[keyof Paths];

/** The codes an error body (or a union of them) declares. */
type CodesOf<B> = B extends { error: { code: infer C extends string } } ? C : never;

/**
 * The error codes `Paths` declares: a union of string literals when its
 * error responses list their codes (a `code` enum), `string` while any
 * error response leaves its code open.
 */
export type ErrorCodeIn<Paths extends AnyPaths> = [CodesOf<ErrorBodyIn<Paths>>] extends [never]
  ? string
  : CodesOf<ErrorBodyIn<Paths>>;

/** The paths of `Paths` whose GET answers a page: `{ items, nextCursor }`. */
export type ListPathIn<Paths extends AnyPaths> = {
  [P in PathsWithMethod<Paths, "get">]: SuccessJsonOf<Paths[P]["get"]> extends {
    items: unknown[];
    nextCursor: unknown;
  }
    ? P
    : never;
}[PathsWithMethod<Paths, "get">];

/** Every error body Strata's document declares. */
export type ErrorBody = ErrorBodyIn<paths>;
/** The error codes Strata's document declares (`string` until its error responses list them). */
export type ErrorCode = ErrorCodeIn<paths>;
/** The codes one operation declares (`ErrorCodeOf<"/v1/documents/{documentId}", "get">`). */
export type ErrorCodeOf<P extends keyof paths, M extends HttpMethod> = ErrorCodeIn<{
  [K in P]: { [N in M]: Operation<P, M> };
}>;
/** An error body's `details`. */
export type ErrorDetails = ErrorBody extends { error: { details: infer D } } ? D : Record<string, unknown>;

/** The paths whose GET answers a page. */
export type ListPath = ListPathIn<paths>;
/** One item of a list path's pages. */
export type ListItem<P extends ListPath> = ResponseBody<P, "get"> extends { items: (infer I)[] } ? I : never;

/** The route that asks for an AI suggestion; `stream: true` makes it answer server-sent events. */
export type SuggestionPath = "/v1/documents/{documentId}/suggestions";

/** A suggestion, as the route answers it without streaming and in the stream's `suggestion` event. */
export type Suggestion = ResponseBody<SuggestionPath, "post">;
