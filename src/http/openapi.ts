import type { FastifyDynamicSwaggerOptions } from "@fastify/swagger";
import type { TSchema } from "typebox";
import type { Config } from "../config/config.ts";

/**
 * The OpenAPI document (served at /openapi.json) is built from the routes'
 * own schemas; this file holds what is the document's alone: its security
 * scheme, servers and tags, and the one correction made to what Fastify's
 * schemas say. Every operation declares its security, operationId, summary
 * and every status it answers (openapi.test.ts checks each one, and
 * `npm run lint:openapi` lints the whole document).
 */

/** The name operations use for the one security scheme. */
const BEARER_SCHEME = "bearer";

type Security = { [scheme: string]: string[] }[];

/** A user's access token, an anonymous session's token or an API key, all sent as `Authorization: Bearer`. */
export const BEARER: Security = [{ [BEARER_SCHEME]: [] }];

/** No credentials. */
export const PUBLIC: Security = [];

/** Works without credentials; a bearer token, when sent, is used (an anonymous session to claim). */
export const OPTIONAL_BEARER: Security = [{}, { [BEARER_SCHEME]: [] }];

/** A shared schema with the description of one particular response (the document's response description). */
export function described<T extends TSchema>(schema: T, description: string): T {
  return { ...schema, description };
}

const TAGS = [
  { name: "operations", description: "Liveness, readiness and metrics, for the platform that runs Strata." },
  { name: "auth", description: "Anonymous sessions, registration, login, token refresh and logout." },
  { name: "account", description: "The caller's own account and preferences." },
  { name: "organizations", description: "Organizations (tenants) and their members." },
  { name: "api keys", description: "Keys for server-to-server calls, scoped read, write or admin." },
  { name: "writing", description: "Documents, their versions and diffs, AI suggestions and prompt templates." },
  {
    name: "generation",
    description: "Templates, components and pipelines, contexts and batches the workers process, and the workers.",
  },
  { name: "blobs", description: "Signed download links of the filesystem blob store." },
];

export function openApiOptions(config: Readonly<Config>): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Strata API",
        version: "0.1.0",
        description:
          "The data layer for AI applications. Every error has one shape, `{ error: { code, message, details } }`; " +
          "each operation lists the statuses it answers and, for each, the codes it can carry. " +
          "Any operation may also answer 500 `internal_error`, which discloses nothing internal.",
      },
      servers: [{ url: config.http.publicUrl, description: "This server (PUBLIC_URL)" }],
      tags: TAGS,
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: "http",
            scheme: "bearer",
            description:
              "A user's access token (a JWT from /v1/auth/login, /v1/auth/register or /v1/auth/refresh), " +
              "an anonymous session's token (from /v1/auth/anonymous) or an API key (`sk_…`).",
          },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) =>
      "openapiObject" in documentObject
        ? optionalDefaults(documentObject.openapiObject as OpenApiDocument)
        : documentObject.swaggerObject,
  };
}

interface OpenApiDocument {
  paths?: Record<
    string,
    Record<string, { parameters?: { in: string; required?: boolean; schema?: { default?: unknown } }[] }>
  >;
}

/**
 * A query parameter with a default (`?limit=`) is one a client may leave
 * out: the validator fills it in (validation.ts, useDefaults). Fastify's
 * schema lists it as required so handlers see it typed as present; the
 * document says what a client must send.
 */
export function optionalDefaults<T extends OpenApiDocument>(document: T): T {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === "query" && parameter.schema?.default !== undefined) parameter.required = false;
      }
    }
  }
  return document;
}
