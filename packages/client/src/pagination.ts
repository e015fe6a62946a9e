import type { Client, MaybeOptionalInit } from "openapi-fetch";
import type { ListItem, ListPath, paths, ResponseBody } from "./api-types.ts";
import { unwrap } from "./errors.ts";

/** A list path's GET options: path parameters, filters, `limit`, and a `cursor` to start from. */
export type ListInit<P extends ListPath> = MaybeOptionalInit<paths[P], "get">;
/** The options are required exactly when the path has parameters (`/v1/documents/{documentId}/versions`). */
export type ListArgs<P extends ListPath> = undefined extends ListInit<P> ? [init?: ListInit<P>] : [init: ListInit<P>];

export interface Paginators {
  /**
   * Every item of a list, page after page, following `nextCursor` until the
   * list ends; a page is fetched only when the loop reaches it. A refused
   * page throws a StrataError.
   */
  paginate<P extends ListPath>(path: P, ...init: ListArgs<P>): AsyncGenerator<ListItem<P>, void, undefined>;
  /** The same, a page (`{ items, nextCursor }`) at a time. */
  pages<P extends ListPath>(path: P, ...init: ListArgs<P>): AsyncGenerator<ResponseBody<P, "get">, void, undefined>;
}

export function paginators(api: Client<paths>): Paginators {
  // The list paths differ in their parameters; one untyped call serves them all.
  const get = api.GET as (
    path: string,
    init: Record<string, any>,
  ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

  async function* pages<P extends ListPath>(path: P, ...[init]: ListArgs<P>) {
    const options = (init ?? {}) as Record<string, any>;
    const params = (options.params ?? {}) as Record<string, any>;
    let cursor: string | undefined = params.query?.cursor;
    do {
      const page = (await unwrap(
        get(path, { ...options, params: { ...params, query: { ...params.query, cursor } } }),
      )) as ResponseBody<P, "get"> & { nextCursor: string | null };
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  return {
    pages,
    async *paginate(path, ...init) {
      for await (const page of pages(path, ...init))
        yield* (page as unknown as { items: ListItem<typeof path>[] }).items;
    },
  };
}
