import type { FieldProblem } from "../../platform/errors/app-error.ts";
import type { TemplateVariable, VariableType } from "./tables.ts";

/**
 * Knowledge templates mark each variable as `{{name}}` (white space inside
 * the braces allowed). The format is deliberately this small: no logic, no
 * escapes, one pass, so a value that itself contains `{{other}}` is written
 * as it is, never expanded again.
 */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export type VariableValue = string | number | boolean | string[];

/** The variable names a template's content uses, each once, in order of first use. */
export function placeholders(content: string): string[] {
  return [...new Set(Array.from(content.matchAll(PLACEHOLDER), (m) => m[1] as string))];
}

function isOfType(value: unknown, type: VariableType): boolean {
  switch (type) {
    case "string":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "list":
      return Array.isArray(value) && value.every((item) => typeof item === "string");
  }
}

const typeName: Record<VariableType, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  list: "a list of strings",
};

/**
 * What makes a template unusable, as it would be stored: a placeholder no
 * variable declares, a variable declared twice, a default of the wrong type.
 */
export function templateProblems(content: string, variables: readonly TemplateVariable[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const declared = new Set<string>();
  variables.forEach((variable, i) => {
    if (declared.has(variable.name)) {
      problems.push({ field: `body.variables.${i}.name`, code: "duplicate", message: "variable names must be unique" });
    }
    declared.add(variable.name);
    if (variable.default !== undefined && !isOfType(variable.default, variable.type)) {
      problems.push({
        field: `body.variables.${i}.default`,
        code: "type",
        message: `must be ${typeName[variable.type]}, the variable's type`,
      });
    }
  });
  for (const name of placeholders(content)) {
    if (!declared.has(name)) {
      problems.push({
        field: "body.content",
        code: "undeclared_variable",
        message: `uses {{${name}}}, which no variable declares`,
      });
    }
  }
  return problems;
}

/**
 * The template with every variable filled, or the problems with the values
 * given: a required variable missing, a value of the wrong type, a name the
 * template does not declare. An optional variable left out takes its
 * default, or the empty string.
 */
export function fillTemplate(
  content: string,
  variables: readonly TemplateVariable[],
  given: Readonly<Record<string, VariableValue>>,
): { content: string } | { problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  const byName = new Map(variables.map((v) => [v.name, v]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      problems.push({
        field: `body.variables.${name}`,
        code: "unknown_variable",
        message: "the template declares no such variable",
      });
    }
  }
  const values = new Map<string, VariableValue>();
  for (const variable of variables) {
    const value = Object.hasOwn(given, variable.name) ? given[variable.name] : variable.default;
    const field = `body.variables.${variable.name}`;
    if (value === undefined) {
      if (variable.required) problems.push({ field, code: "missing", message: "is required by the template" });
      continue;
    }
    if (!isOfType(value, variable.type)) {
      problems.push({ field, code: "type", message: `must be ${typeName[variable.type]}` });
      continue;
    }
    values.set(variable.name, value);
  }
  if (problems.length > 0) return { problems };
  return {
    content: content.replace(PLACEHOLDER, (_match, name: string) => {
      const value = values.get(name);
      if (value === undefined) return "";
      return Array.isArray(value) ? value.join(", ") : String(value);
    }),
  };
}
