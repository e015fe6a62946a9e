import { isUtf8 } from "node:buffer";
import type { FastifyInstance } from "fastify";
import type { FieldProblem } from "../platform/errors/app-error.ts";
import { errors } from "../platform/errors/catalog.ts";

/**
 * Text arriving in a request, checked once for every route before its schema
 * runs: no string (or object key) in the path parameters, the query or the
 * JSON body may hold a NUL character (Postgres text cannot store one) or a
 * lone UTF-16 surrogate (`"\ud800"` in JSON: it has no UTF-8 form and would
 * be stored as U+FFFD), and a JSON body must be valid UTF-8 (decoding it
 * would silently replace the bad bytes with U+FFFD). Each is a 400
 * `validation_failed` naming the field, rather than a 500 from the database
 * or a silently altered text.
 */
const MAX_PROBLEMS = 20;

/** The problems of every string under `value`, with `prefix.path.to.field` names. */
export function textProblems(value: unknown, prefix: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // Iterative, so a deeply nested body cannot exhaust the stack.
  const stack: [unknown, string][] = [[value, prefix]];
  while (stack.length > 0 && problems.length < MAX_PROBLEMS) {
    const [item, field] = stack.pop() as [unknown, string];
    if (typeof item === "string") {
      const problem = stringProblem(item);
      if (problem) problems.push({ field, ...problem });
    } else if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push([item[i], `${field}.${i}`]);
    } else if (item !== null && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        const problem = stringProblem(key);
        if (problem) problems.push({ field: `${field}.${key}`, ...problem, message: `its name ${problem.message}` });
        else stack.push([child, `${field}.${key}`]);
      }
    }
  }
  return problems;
}

/**
 * Whether anything under `value` is refused: the hook's fast path, which
 * allocates nothing for a clean request (nearly all of them), so the work
 * of naming the fields is only done for a refusal.
 */
function hasBadText(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return value.includes("\u0000") || !value.isWellFormed();
  if (value === null || typeof value !== "object") return false;
  // Deep nesting is left to textProblems' iterative walk.
  if (depth > 32) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (hasBadText(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    if (hasBadText(key) || hasBadText((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

function stringProblem(text: string): Omit<FieldProblem, "field"> | null {
  if (text.includes("\u0000")) return { code: "nul_character", message: "must not contain a NUL character" };
  if (!text.isWellFormed()) {
    return { code: "invalid_unicode", message: "must be valid Unicode (it holds a lone surrogate)" };
  }
  return null;
}

/** A JSON body parser that refuses invalid UTF-8 (for every route). */
export function registerUtf8JsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(
        errors.validationFailed([{ field: "body", code: "invalid_unicode", message: "must be valid UTF-8" }]),
        undefined,
      );
      return;
    }
    parseJson(request, bytes.toString("utf8"), done);
  });
}

/**
 * The text checks above, as a hook on the API's routes (/v1: the ones that
 * read their parameters; /health and the like ignore theirs).
 */
export function registerTextInputChecks(app: FastifyInstance): void {
  app.addHook("preValidation", (request, _reply, done) => {
    if (!hasBadText(request.params) && !hasBadText(request.query) && !hasBadText(request.body)) {
      done();
      return;
    }
    const problems = [
      ...textProblems(request.params, "params"),
      ...textProblems(request.query, "query"),
      ...textProblems(request.body, "body"),
    ];
    done(problems.length > 0 ? errors.validationFailed(problems) : undefined);
  });
}
