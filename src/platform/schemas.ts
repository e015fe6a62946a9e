import { type TProperties, type TSchema, Type } from "typebox";
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from "./pagination.ts";

/**
 * The building blocks of every resource's schemas (identity's in
 * `identity/schemas.ts`, each module's in its own `schemas.ts`) and of the
 * routes' requests. TypeBox only, no Fastify: services import the schemas
 * for their types without depending on the HTTP layer.
 *
 * Request bodies are strict: a field the schema does not name is a 400
 * `validation_failed` with code `unknown_field`, never silently dropped (so
 * `{ "role": "admin" }` cannot slip through a body that does not expect it).
 */
export const StrictObject = <T extends TProperties>(properties: T, options: { description?: string } = {}) =>
  Type.Object(properties, { ...options, additionalProperties: false });

/**
 * A name, title, tag or other short text a person reads: 1 to `maxLength`
 * characters, not all white space. The pattern is the one the error handler
 * reports as `blank`.
 */
export const NOT_BLANK = "\\S";
export const Label = (maxLength: number, options: { description?: string } = {}) =>
  Type.String({ minLength: 1, maxLength, pattern: NOT_BLANK, ...options });

const pageParams = (defaultLimit = DEFAULT_PAGE_SIZE) => ({
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: defaultLimit }),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

/** `?limit=&cursor=` on every list route; anything else is refused. */
export const ListQuery = Type.Object(pageParams(), { additionalProperties: false });

/** The same, plus the route's own filters (and a smaller default page where a seed names one). */
export const listQuery = <T extends TProperties>(filters: T, options: { defaultLimit?: number } = {}) =>
  Type.Object({ ...pageParams(options.defaultLimit), ...filters }, { additionalProperties: false });

/** `{ items, nextCursor }`, the shape of every list. */
export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/**
 * One of a few strings: `{ type: "string", enum: [...] }` in the document
 * (what generated clients turn into a literal union), the same literal
 * union in TypeScript. The values come from the table definitions where a
 * column holds them, so the database's CHECK, the row type and the API say
 * the same.
 */
export const StringEnum = <const T extends readonly string[]>(values: T, options: { description?: string } = {}) =>
  Type.Unsafe<T[number]>({ type: "string", enum: values, ...options });

/** A value or null (`anyOf: [schema, null]` in the document). */
export const Nullable = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Union([schema, Type.Null()], options);

/** An id: a UUID. */
export const Uuid = Type.String({ format: "uuid" });
