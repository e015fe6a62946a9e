import { type Static, Type } from "typebox";
import { Label, Nullable, StrictObject, StringEnum, Uuid } from "../../platform/schemas.ts";
import { ENFORCEMENTS, RULE_STATUSES, SEVERITIES, VARIABLE_TYPES } from "./tables.ts";

/**
 * The knowledge module's resources as the API shows them, declared once:
 * the routes answer with these, the OpenAPI document is made from them, and
 * the services' view types derive from them.
 */

/** A meaningful identifier (`ts-strict-mode`): the seed's rule_id, practice_id and template_id. */
export const EntryKey = Type.String({
  minLength: 1,
  maxLength: 50,
  pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$",
  description: "A meaningful identifier, unique among the organization's entries of its kind (and among system ones).",
});
export const Category = Label(100, { description: "Lower-cased on write (`typescript`, `postgres`)." });
const Title = Label(255);
const LongText = Type.String({ minLength: 1, maxLength: 20_000, pattern: "\\S" });
const Tags = Type.Array(Label(50), { maxItems: 20, uniqueItems: true, description: "Lower-cased on write." });
const Phrases = Type.Array(Label(1_000), { maxItems: 50 });

export const Example = Type.Object(
  {
    title: Type.Optional(Label(255)),
    code: Type.String({ minLength: 1, maxLength: 10_000 }),
    language: Type.Optional(Label(50)),
    kind: Type.Optional(StringEnum(["good", "bad"] as const, { description: "Follows the rule, or breaks it." })),
  },
  { additionalProperties: false },
);
const Examples = Type.Array(Example, { maxItems: 20 });
const Reference = Type.Object(
  { title: Label(255), url: Type.Optional(Type.String({ format: "uri", maxLength: 2_000 })) },
  { additionalProperties: false },
);
const Score = Nullable(Type.Number({ minimum: 0, maximum: 1, multipleOf: 0.01 }), {
  description: "Between 0 and 1, two decimals.",
});

/** What every entry shows beside its kind's own fields. */
const common = {
  id: Uuid,
  tags: Type.Array(Type.String()),
  system: Type.Boolean({ description: "A system entry: readable by everyone, written only by `strata seed`." }),
  active: Type.Boolean({ description: "False once deleted (a soft delete); inactive entries are listed on request." }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  deactivatedAt: Nullable(Type.String()),
};

export const Severity = StringEnum(SEVERITIES, { description: "Most serious first." });
export const Enforcement = StringEnum(ENFORCEMENTS);
export const RuleStatus = StringEnum(RULE_STATUSES, { description: "The rule's editorial state." });

export const Rule = Type.Object({
  ...common,
  key: Type.String({ description: "The seed's rule_id: a meaningful identifier." }),
  category: Type.String(),
  title: Type.String(),
  description: Type.String(),
  severity: Severity,
  enforcement: Enforcement,
  examples: Type.Array(Example),
  antiPatterns: Type.Array(Type.String()),
  violationsConsequence: Nullable(Type.String()),
  priority: Type.Integer({ description: "Higher first among rules of one severity." }),
  status: RuleStatus,
});
export type RuleView = Static<typeof Rule>;

const ruleFields = {
  category: Category,
  title: Title,
  description: LongText,
  severity: Severity,
  enforcement: Enforcement,
  examples: Type.Optional(Examples),
  antiPatterns: Type.Optional(Phrases),
  violationsConsequence: Type.Optional(Nullable(LongText)),
  tags: Type.Optional(Tags),
  priority: Type.Optional(Type.Integer({ minimum: -1_000, maximum: 1_000 })),
  status: Type.Optional(RuleStatus),
};
export const NewRule = StrictObject({ key: EntryKey, ...ruleFields });
export const RulePatch = StrictObject({
  ...Type.Partial(Type.Object(ruleFields)).properties,
  active: Type.Optional(Type.Boolean({ description: "True restores a deleted rule." })),
});
export type NewRuleBody = Static<typeof NewRule>;
export type RulePatchBody = Static<typeof RulePatch>;

export const Practice = Type.Object({
  ...common,
  key: Type.String({ description: "The seed's practice_id: a meaningful identifier." }),
  category: Type.String(),
  title: Type.String(),
  description: Type.String(),
  benefits: Type.Array(Type.String()),
  implementationGuide: Nullable(Type.String()),
  antiPatterns: Type.Array(Type.String()),
  references: Type.Array(Reference),
  examples: Type.Array(Example),
  effectivenessScore: Score,
  adoptionRate: Score,
  required: Type.Boolean({ description: "The seed's is_required: a practice every project follows." }),
});
export type PracticeView = Static<typeof Practice>;

const practiceFields = {
  category: Category,
  title: Title,
  description: LongText,
  benefits: Type.Optional(Phrases),
  implementationGuide: Type.Optional(Nullable(LongText)),
  antiPatterns: Type.Optional(Phrases),
  references: Type.Optional(Type.Array(Reference, { maxItems: 20 })),
  examples: Type.Optional(Examples),
  effectivenessScore: Type.Optional(Score),
  adoptionRate: Type.Optional(Score),
  required: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Tags),
};
export const NewPractice = StrictObject({ key: EntryKey, ...practiceFields });
export const PracticePatch = StrictObject({
  ...Type.Partial(Type.Object(practiceFields)).properties,
  active: Type.Optional(Type.Boolean({ description: "True restores a deleted practice." })),
});
export type NewPracticeBody = Static<typeof NewPractice>;
export type PracticePatchBody = Static<typeof PracticePatch>;

const VariableName = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z_][A-Za-z0-9_]*$" });
const VariableValue = Type.Union([
  Type.String({ maxLength: 20_000 }),
  Type.Number(),
  Type.Boolean(),
  Type.Array(Type.String({ maxLength: 2_000 }), { maxItems: 200 }),
]);
export const Variable = Type.Object(
  {
    name: VariableName,
    type: StringEnum(VARIABLE_TYPES, { description: "A list is filled with strings, joined by `, `." }),
    required: Type.Boolean(),
    description: Type.Optional(Label(500)),
    default: Type.Optional(VariableValue),
  },
  { additionalProperties: false },
);

export const Template = Type.Object({
  ...common,
  key: Type.String({ description: "The seed's template_id: a meaningful identifier." }),
  name: Type.String(),
  description: Nullable(Type.String()),
  category: Type.String(),
  content: Type.String({ description: "The seed's template_content; `{{name}}` marks where a variable goes." }),
  variables: Type.Array(Variable),
  usageCount: Type.Integer({ description: "How many times the template was used (rendered)." }),
});
export type TemplateView = Static<typeof Template>;

const templateFields = {
  name: Title,
  description: Type.Optional(Nullable(LongText)),
  category: Category,
  content: Type.String({ minLength: 1, maxLength: 100_000, pattern: "\\S" }),
  variables: Type.Optional(Type.Array(Variable, { maxItems: 50 })),
  tags: Type.Optional(Tags),
};
export const NewTemplate = StrictObject({ key: EntryKey, ...templateFields });
export const TemplatePatch = StrictObject({
  ...Type.Partial(Type.Object(templateFields)).properties,
  active: Type.Optional(Type.Boolean({ description: "True restores a deleted template." })),
});
export type NewTemplateBody = Static<typeof NewTemplate>;
export type TemplatePatchBody = Static<typeof TemplatePatch>;

export const TemplateUse = StrictObject({
  variables: Type.Record(VariableName, VariableValue, {
    maxProperties: 50,
    description: "A value for each required variable, of its declared type.",
  }),
});
export type TemplateUseBody = Static<typeof TemplateUse>;
export const RenderedTemplate = Type.Object({
  templateId: Uuid,
  content: Type.String({ description: "The template with every variable filled." }),
  usageCount: Type.Integer(),
});
export type RenderedTemplateView = Static<typeof RenderedTemplate>;

export const KNOWLEDGE_KINDS = ["rule", "practice", "template"] as const;
export type KnowledgeKind = (typeof KNOWLEDGE_KINDS)[number];
