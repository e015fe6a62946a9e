import { Ajv, type Options, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import type { FastifySchema, FastifySchemaCompiler } from "fastify";

/**
 * Request validation. Query strings, path parameters and headers arrive as
 * text, so their numbers and booleans are coerced from strings; JSON bodies
 * are typed already and are not coerced, so `"tags": [1, 2]` is refused
 * rather than turned into `["1", "2"]`. Both report every problem at once
 * and refuse (never strip) unknown fields.
 */
const common: Options = { allErrors: true, removeAdditional: false, useDefaults: true, strict: false };

function makeAjv(coerce: boolean) {
  const ajv = new Ajv({ ...common, coerceTypes: coerce ? "array" : false });
  (addFormats as unknown as (ajv: Ajv) => void)(ajv);
  return ajv;
}

/**
 * Each route's validator is compiled on the route's first request rather than
 * when the server starts: compiling every route's schemas was a third of the
 * CPU a start spent, for routes a given process may never serve. The first
 * request to a route pays a few milliseconds once; a schema Ajv cannot
 * compile fails that request (a 500) and is caught by the route tests.
 */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const body = makeAjv(false);
  const text = makeAjv(true);
  return ({ schema, httpPart }) => {
    let validate: ValidateFunction | null = null;
    const lazy = (data: unknown) => {
      validate ??= (httpPart === "body" ? body : text).compile(schema as object);
      const valid = validate(data);
      lazy.errors = validate.errors;
      return valid;
    };
    lazy.errors = null as ValidateFunction["errors"];
    return lazy;
  };
}
