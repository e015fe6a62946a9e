import { Ajv, type Options } from "ajv";
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

export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const body = makeAjv(false);
  const text = makeAjv(true);
  return ({ schema, httpPart }) => (httpPart === "body" ? body : text).compile(schema as object);
}
