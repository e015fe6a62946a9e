// Writes the client's types (src/generated/openapi.ts) from the server's
// OpenAPI document. Run by scripts/build-client.mjs (npm install, npm run
// build, and npm test when a server source is newer than the file).
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { serverOpenApiDocument } from "../../../scripts/openapi-document.ts";

export const GENERATED_TYPES = path.resolve(import.meta.dirname, "../src/generated/openapi.ts");

const HEADER = `// Generated from Strata's OpenAPI document by packages/client/scripts/generate-types.ts
// (openapi-typescript) during the build. Do not edit: change the server's routes and rebuild.

`;

/** The types openapi-typescript makes of a document, as the file's text. */
export async function typesFor(document: Record<string, unknown>): Promise<string> {
  // A default is the server's to apply: a parameter or body field that has
  // one may be left out, so it stays optional in the types.
  const ast = await openapiTS(document as any, { silent: true, defaultNonNullable: false });
  return HEADER + astToString(ast);
}

if (process.argv[1] === import.meta.filename) {
  const text = await typesFor(await serverOpenApiDocument());
  await mkdir(path.dirname(GENERATED_TYPES), { recursive: true });
  await writeFile(GENERATED_TYPES, text);
}
