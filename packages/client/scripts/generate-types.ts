// Writes the client's types (src/generated/openapi.ts) from the server's
// OpenAPI document. Run by scripts/build-client.mjs (npm install, npm run
// build) when a server source is newer than the file; `--check` only compares
// and exits 1 when the file differs from what the server's document gives.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { serverOpenApiDocument } from "./openapi-document.ts";

export const GENERATED_TYPES = path.resolve(import.meta.dirname, "../src/generated/openapi.ts");

const HEADER = `// Generated from Strata's OpenAPI document by packages/client/scripts/generate-types.ts
// (openapi-typescript) during the build. Do not edit: change the server's routes and rebuild.

`;

/** The types openapi-typescript makes of a document, as the file's text. */
export async function typesFor(document: Record<string, unknown>): Promise<string> {
  optionalDefaultedParameters(document);
  // A default is the server's to apply: a parameter or body field that has
  // one may be left out, so it stays optional in the types.
  const ast = await openapiTS(document as any, { silent: true, defaultNonNullable: false });
  return HEADER + astToString(ast);
}

if (process.argv[1] === import.meta.filename) {
  const text = await typesFor(await serverOpenApiDocument());
  if (process.argv.includes("--check")) {
    const current = await readFile(GENERATED_TYPES, "utf8").catch(() => null);
    if (current !== text) {
      process.stderr.write(`${path.relative(process.cwd(), GENERATED_TYPES)} is out of date: run npm run build\n`);
      process.exit(1);
    }
  } else {
    await mkdir(path.dirname(GENERATED_TYPES), { recursive: true });
    await writeFile(GENERATED_TYPES, text);
  }
}

/**
 * A query parameter with a default (`limit` on every list) is listed as
 * required, because the server's schema always holds a value once Ajv has
 * applied the default; a caller may leave it out all the same. Marked
 * optional here, so the types say what a request may omit.
 */
function optionalDefaultedParameters(document: Record<string, unknown>): void {
  const paths = (document.paths ?? {}) as Record<string, Record<string, { parameters?: unknown[] }>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      for (const parameter of operation?.parameters ?? []) {
        const p = parameter as { required?: boolean; schema?: { default?: unknown } };
        if (p.required && p.schema && "default" in p.schema) p.required = false;
      }
    }
  }
}
