import type { ColumnType, Generated } from "kysely";
import type { Json, NullableTimestamp, Timestamp } from "../../platform/database/column-types.ts";

/** The knowledge module's tables (seed 004), migrations 500-599. */

/** Seed 004's rule severities, most serious first (the CHECK constraint's set). */
export const SEVERITIES = ["CRITICAL", "ERROR", "WARNING", "INFO"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Seed 004's enforcement levels. */
export const ENFORCEMENTS = ["mandatory", "recommended", "optional"] as const;
export type Enforcement = (typeof ENFORCEMENTS)[number];

/**
 * A rule's life: the seed names `status` (default ACTIVE) beside the `active`
 * flag; Strata gives it a closed set. `active` is the soft delete, `status`
 * the editorial state of a rule still in the catalog.
 */
export const RULE_STATUSES = ["ACTIVE", "DRAFT", "DEPRECATED"] as const;
export type RuleStatus = (typeof RULE_STATUSES)[number];

/** What a template variable holds; a value given for it when the template is used must be of this type. */
export const VARIABLE_TYPES = ["string", "number", "boolean", "list"] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** One of a template's declared variables (seed 004's `variables` JSONB, given a shape). */
export interface TemplateVariable {
  name: string;
  type: VariableType;
  required: boolean;
  description?: string;
  /** Used when the variable is not given; only for optional variables. */
  default?: string | number | boolean | string[];
}

/** A code example of a rule or practice: the seed's `examples` JSONB, given a shape. */
export interface KnowledgeExample {
  title?: string;
  code: string;
  language?: string;
  /** For a rule: whether the example follows the rule (`good`) or breaks it (`bad`). */
  kind?: "good" | "bad";
}

/** A reference of a practice: where to read more. */
export interface PracticeReference {
  title: string;
  url?: string;
}

/**
 * Columns every knowledge table shares beyond the seed's: the tenant (null
 * for system entries, which everyone reads and only `strata seed` writes),
 * who last wrote it, when it changed and when it was deactivated (the
 * archive job moves entries inactive for two years by this).
 */
interface Shared {
  id: Generated<string>;
  organization_id: string | null;
  created_by: string | null;
  updated_by: string | null;
  tags: Json<string[]>;
  created_at: Timestamp;
  updated_at: Timestamp;
  deactivated_at: NullableTimestamp;
}

export interface KnowledgeRulesTable extends Shared {
  rule_id: string;
  category: string;
  title: string;
  description: string;
  severity: Severity;
  enforcement: Enforcement;
  examples: Json<KnowledgeExample[]>;
  anti_patterns: Json<string[]>;
  violations_consequence: string | null;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  priority: ColumnType<number, number | undefined, number>;
  status: ColumnType<RuleStatus, RuleStatus | undefined, RuleStatus>;
}

export interface KnowledgePracticesTable extends Shared {
  practice_id: string;
  category: string;
  title: string;
  description: string;
  benefits: Json<string[]>;
  implementation_guide: string | null;
  anti_patterns: Json<string[]>;
  references: Json<PracticeReference[]>;
  examples: Json<KnowledgeExample[]>;
  /** DECIMAL(3,2): read back as a string by the drivers, shown as a number. */
  effectiveness_score: ColumnType<string | null, number | null | undefined, number | null>;
  adoption_rate: ColumnType<string | null, number | null | undefined, number | null>;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
  is_required: ColumnType<boolean, boolean | undefined, boolean>;
}

export interface KnowledgeTemplatesTable extends Shared {
  template_id: string;
  name: string;
  description: string | null;
  category: string;
  template_content: string;
  variables: Json<TemplateVariable[]>;
  usage_count: ColumnType<number, number | undefined, number>;
  is_active: ColumnType<boolean, boolean | undefined, boolean>;
}

/** An archived entry: the row as it was, and when it moved. */
type Archived<T> = Omit<T, "id"> & { id: string; archived_at: Timestamp };

declare module "../../platform/database/tables.ts" {
  interface Tables {
    knowledge_rules: KnowledgeRulesTable;
    knowledge_practices: KnowledgePracticesTable;
    knowledge_templates: KnowledgeTemplatesTable;
    knowledge_rules_archive: Archived<KnowledgeRulesTable>;
    knowledge_practices_archive: Archived<KnowledgePracticesTable>;
    knowledge_templates_archive: Archived<KnowledgeTemplatesTable>;
  }
}
