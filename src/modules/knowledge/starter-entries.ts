import type { NewPracticeBody, NewRuleBody, NewTemplateBody } from "./schemas.ts";
import practices from "./starter/practices.json" with { type: "json" };
import rules from "./starter/rules.json" with { type: "json" };
import templates from "./starter/templates.json" with { type: "json" };

/**
 * Strata's starter knowledge for TypeScript, Node and Postgres work, loaded
 * by `strata seed` as system entries: rules an assistant should hold code
 * to, practices that have paid off (their scores are Strata's own
 * estimates, not survey data), and templates a team writes again and again.
 * Kept as JSON, because it is data: its examples are code, and code in a
 * source file would read to the boundary checks as Strata's own. A test
 * checks every entry against the API's schemas.
 */
export const STARTER_RULES = rules as NewRuleBody[];
export const STARTER_PRACTICES = practices as NewPracticeBody[];
export const STARTER_TEMPLATES = templates as NewTemplateBody[];
