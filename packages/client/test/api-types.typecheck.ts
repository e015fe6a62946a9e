// Checked by `npm run typecheck` (not run): how the client's types follow
// what a document declares. A synthetic document's paths, as
// openapi-typescript writes them, stand in for a richer Strata document.
import {
  type ErrorCode,
  type ErrorCodeIn,
  type ErrorCodeOf,
  isStrataError,
  type ListItem,
  type ListPath,
  type ListPathIn,
  type StrataClient,
  type Suggestion,
} from "../src/index.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const holds = <T extends true>(): T => true as T;

type ErrorOf<Code> = {
  headers: { [name: string]: unknown };
  content: { "application/json": { error: { code: Code; message: string; details: Record<string, unknown> } } };
};
type Ok<Body> = { headers: { [name: string]: unknown }; content: { "application/json": Body } };

/** Error responses that list their codes, as an enum in the document makes them. */
interface DeclaredPaths {
  "/v1/things": {
    get: {
      parameters: { query?: { limit?: number; cursor?: string } };
      requestBody?: never;
      responses: { 200: Ok<{ items: { id: string }[]; nextCursor: string | null }>; 503: ErrorOf<"store_unavailable"> };
    };
  };
  "/v1/things/{thingId}": {
    get: {
      parameters: { path: { thingId: string } };
      requestBody?: never;
      responses: {
        200: Ok<{ id: string }>;
        404: ErrorOf<"thing_not_found">;
        401: ErrorOf<"token_expired" | "token_invalid">;
      };
    };
  };
}

/** The same with one error response whose code is open. */
interface OpenPaths extends DeclaredPaths {
  "/v1/other": { post: { parameters: { query?: never }; requestBody?: never; responses: { 400: ErrorOf<string> } } };
}

export const checks = [
  holds<
    Equal<ErrorCodeIn<DeclaredPaths>, "store_unavailable" | "thing_not_found" | "token_expired" | "token_invalid">
  >(),
  holds<Equal<ErrorCodeIn<OpenPaths>, string>>(),
  holds<Equal<ListPathIn<DeclaredPaths>, "/v1/things">>(),
  // Strata's own document lists every operation's codes, so the union is closed.
  holds<Equal<string extends ErrorCode ? true : false, false>>(),
  holds<Equal<"document_not_found" extends ErrorCode ? true : false, true>>(),
  holds<Equal<"document_not_found" extends ErrorCodeOf<"/v1/documents/{documentId}", "get"> ? true : false, true>>(),
  holds<Equal<"email_taken" extends ErrorCodeOf<"/v1/documents/{documentId}", "get"> ? true : false, false>>(),
  // A success answered as JSON and as an event stream types as its JSON.
  holds<Equal<Suggestion["content"], string>>(),
  holds<Equal<"/v1/documents" extends ListPath ? true : false, true>>(),
  holds<Equal<"/v1/documents/{documentId}/versions" extends ListPath ? true : false, true>>(),
  holds<Equal<"/v1/me" extends ListPath ? true : false, false>>(),
  holds<Equal<ListItem<"/v1/documents/{documentId}/versions">["number"], number>>(),
];

/** Named codes narrow an error's `code` to them, whatever the document declares. */
export function narrowed(error: unknown): "document_not_found" | "version_not_found" | null {
  if (isStrataError(error, "document_not_found", "version_not_found")) return error.code;
  return null;
}

/** A call's error is typed by the codes its route declares. */
export async function callErrors(client: StrataClient): Promise<void> {
  const { error } = await client.GET("/v1/me");
  if (error?.error.code === "authentication_required") return;
  // @ts-expect-error GET /v1/me declares no such code
  if (error?.error.code === "document_not_found") return;
}
