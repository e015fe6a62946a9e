/**
 * The operations of Strata's OpenAPI document, as the generated route tests
 * (the hostile-input fuzz, the authorization matrix) walk them: every path
 * and method, its parameters, its JSON body schema and the error codes it
 * declares per status.
 */

/** The parts of a JSON Schema those tests read. */
export type Schema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
};

export interface Parameter {
  name: string;
  in: "path" | "query";
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  path: string;
  /** Path and query parameters. */
  params: Parameter[];
  body: Schema | null;
  /** The error codes the document declares, by status. */
  errors: Map<number, Set<string>>;
}

/** The codes an error response's schema allows (`error.code`'s enum). */
function declaredCodes(response: any): Set<string> {
  const schema = response?.content?.["application/json"]?.schema;
  const code = schema?.properties?.error?.properties?.code;
  return new Set<string>(code?.enum ?? (code?.const !== undefined ? [code.const] : []));
}

export function operationsOf(doc: any): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      operations.push({
        method: method.toUpperCase() as Operation["method"],
        path,
        params: (op.parameters ?? []).filter((p: any) => p.in === "path" || p.in === "query"),
        body: op.requestBody?.content?.["application/json"]?.schema ?? null,
        errors: new Map(
          Object.entries<any>(op.responses ?? {})
            .filter(([status]) => Number(status) >= 400)
            .map(([status, response]) => [Number(status), declaredCodes(response)]),
        ),
      });
    }
  }
  return operations;
}
