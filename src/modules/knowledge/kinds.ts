import type { Selectable } from "kysely";
import type { FieldProblem } from "../../platform/errors/app-error.ts";
import type {
  KnowledgeKind,
  NewPracticeBody,
  NewRuleBody,
  NewTemplateBody,
  PracticePatchBody,
  PracticeView,
  RulePatchBody,
  RuleView,
  TemplatePatchBody,
  TemplateView,
} from "./schemas.ts";
import type { KnowledgePracticesTable, KnowledgeRulesTable, KnowledgeTemplatesTable } from "./tables.ts";
import { templateProblems } from "./template-variables.ts";

export type KnowledgeTable = "knowledge_rules" | "knowledge_practices" | "knowledge_templates";

/**
 * What differs between rules, practices and templates, so one service
 * (entries.ts) and one set of routes serve all three: the table, the
 * meaningful key and active-flag columns the seed gives each, how an API
 * body becomes columns and a row becomes the API's view, and the text that
 * is embedded and searched.
 */
export interface KindSpec<Row, View, New, Patch> {
  kind: KnowledgeKind;
  /** The path segment and the name errors and search results use. */
  plural: "rules" | "practices" | "templates";
  table: KnowledgeTable;
  /** The seed's meaningful identifier column (the API's `key`). */
  keyColumn: "rule_id" | "practice_id" | "template_id";
  /** The seed's soft-delete flag. */
  activeColumn: "active" | "is_active";
  /** The column shown as the title in search results and matched by trigram. */
  titleColumn: "title" | "name";
  /** The expression the seed's full-text index is built on (queries must repeat it to use the index). */
  searchText: string;
  /** The platform embedding source's name. */
  source: string;
  columns(body: Partial<New> | Patch): Record<string, unknown>;
  view(row: Row): View;
  /** What the schema cannot check about an entry as it will be stored (template variables). */
  problems?(entry: Row): FieldProblem[];
  /** The text embedded for vector search. */
  embedText(row: Row): string;
}

const json = (value: unknown) => (value === undefined ? undefined : JSON.stringify(value));
const lower = (value: string | undefined) => value?.trim().toLowerCase();
const tagList = (tags: string[] | undefined) => json(tags && [...new Set(tags.map((t) => t.trim().toLowerCase()))]);
const iso = (date: Date | null) => (date ? date.toISOString() : null);
const score = (value: string | null) => (value === null ? null : Number(value));

/** Drops the keys whose value is undefined (a patch changes only what it names). */
function defined(columns: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(columns).filter(([, v]) => v !== undefined));
}

interface SharedRow {
  id: string;
  organization_id: string | null;
  tags: string[];
  created_at: Date;
  updated_at: Date;
  deactivated_at: Date | null;
}

function sharedView(row: SharedRow, active: boolean) {
  return {
    id: row.id,
    tags: row.tags,
    system: row.organization_id === null,
    active,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    deactivatedAt: iso(row.deactivated_at),
  };
}

export type RuleRow = Selectable<KnowledgeRulesTable>;
export type PracticeRow = Selectable<KnowledgePracticesTable>;
export type TemplateRow = Selectable<KnowledgeTemplatesTable>;

export const RULE_SOURCE = "knowledge.rules";
export const PRACTICE_SOURCE = "knowledge.practices";
export const TEMPLATE_SOURCE = "knowledge.templates";

export const rules: KindSpec<RuleRow, RuleView, NewRuleBody, RulePatchBody> = {
  kind: "rule",
  plural: "rules",
  table: "knowledge_rules",
  keyColumn: "rule_id",
  activeColumn: "active",
  titleColumn: "title",
  searchText: "title || ' ' || description",
  source: RULE_SOURCE,
  columns: (b) =>
    defined({
      category: lower(b.category),
      title: b.title,
      description: b.description,
      severity: b.severity,
      enforcement: b.enforcement,
      examples: json(b.examples),
      anti_patterns: json(b.antiPatterns),
      violations_consequence: b.violationsConsequence,
      tags: tagList(b.tags),
      priority: b.priority,
      status: b.status,
    }),
  view: (r) => ({
    ...sharedView(r, r.active),
    key: r.rule_id,
    category: r.category,
    title: r.title,
    description: r.description,
    severity: r.severity,
    enforcement: r.enforcement,
    examples: r.examples,
    antiPatterns: r.anti_patterns,
    violationsConsequence: r.violations_consequence,
    priority: r.priority,
    status: r.status,
  }),
  embedText: (r) => `${r.title}\n${r.description}`,
};

export const practices: KindSpec<PracticeRow, PracticeView, NewPracticeBody, PracticePatchBody> = {
  kind: "practice",
  plural: "practices",
  table: "knowledge_practices",
  keyColumn: "practice_id",
  activeColumn: "is_active",
  titleColumn: "title",
  searchText: "title || ' ' || description",
  source: PRACTICE_SOURCE,
  columns: (b) =>
    defined({
      category: lower(b.category),
      title: b.title,
      description: b.description,
      benefits: json(b.benefits),
      implementation_guide: b.implementationGuide,
      anti_patterns: json(b.antiPatterns),
      references: json(b.references),
      examples: json(b.examples),
      effectiveness_score: b.effectivenessScore,
      adoption_rate: b.adoptionRate,
      is_required: b.required,
      tags: tagList(b.tags),
    }),
  view: (r) => ({
    ...sharedView(r, r.is_active),
    key: r.practice_id,
    category: r.category,
    title: r.title,
    description: r.description,
    benefits: r.benefits,
    implementationGuide: r.implementation_guide,
    antiPatterns: r.anti_patterns,
    references: r.references,
    examples: r.examples,
    effectivenessScore: score(r.effectiveness_score),
    adoptionRate: score(r.adoption_rate),
    required: r.is_required,
  }),
  embedText: (r) => `${r.title}\n${r.description}`,
};

export const templates: KindSpec<TemplateRow, TemplateView, NewTemplateBody, TemplatePatchBody> = {
  kind: "template",
  plural: "templates",
  table: "knowledge_templates",
  keyColumn: "template_id",
  activeColumn: "is_active",
  titleColumn: "name",
  searchText: "name || ' ' || coalesce(description, '')",
  source: TEMPLATE_SOURCE,
  columns: (b) =>
    defined({
      name: b.name,
      description: b.description,
      category: lower(b.category),
      template_content: b.content,
      variables: json(b.variables),
      tags: tagList(b.tags),
    }),
  view: (r) => ({
    ...sharedView(r, r.is_active),
    key: r.template_id,
    name: r.name,
    description: r.description,
    category: r.category,
    content: r.template_content,
    variables: r.variables,
    usageCount: r.usage_count,
  }),
  problems: (r) => templateProblems(r.template_content, r.variables),
  embedText: (r) => `${r.name}\n${r.description ?? ""}`,
};

export type AnyKind = KindSpec<any, any, any, any>;
export const KINDS: readonly AnyKind[] = [rules, practices, templates];
