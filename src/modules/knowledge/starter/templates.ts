import type { NewTemplateBody } from "../schemas.ts";

/** Strata's starter templates: documents and code a TypeScript and Postgres team writes again and again. */
export const STARTER_TEMPLATES: NewTemplateBody[] = [
  {
    key: "pg-migration",
    name: "Postgres migration with rollback",
    description: "A numbered migration with its up and its down, for a Kysely-based migrator.",
    category: "postgres",
    content: `import { sql } from "kysely";
import type { Migration } from "./migration.ts";

/** {{summary}} */
export const migration: Migration = {
  version: {{version}},
  name: "{{name}}",
  async up(db) {
    await sql\`{{up_sql}}\`.execute(db);
  },
  async down(db) {
    await sql\`{{down_sql}}\`.execute(db);
  },
};
`,
    variables: [
      { name: "version", type: "number", required: true, description: "The next migration number." },
      { name: "name", type: "string", required: true, description: "snake_case, e.g. add_user_locale." },
      { name: "summary", type: "string", required: true, description: "What the migration does and why." },
      { name: "up_sql", type: "string", required: true },
      { name: "down_sql", type: "string", required: true, description: "Undoes up_sql exactly." },
    ],
    tags: ["migrations", "kysely"],
  },
  {
    key: "adr",
    name: "Architecture decision record",
    description: "A short record of one decision: its context, the choice, and what follows from it.",
    category: "documentation",
    content: `# {{title}}

Status: {{status}}
Date: {{date}}

## Context
{{context}}

## Decision
{{decision}}

## Consequences
{{consequences}}

## Alternatives considered
{{alternatives}}
`,
    variables: [
      { name: "title", type: "string", required: true },
      {
        name: "status",
        type: "string",
        required: false,
        default: "proposed",
        description: "proposed, accepted, superseded.",
      },
      { name: "date", type: "string", required: true, description: "YYYY-MM-DD." },
      { name: "context", type: "string", required: true },
      { name: "decision", type: "string", required: true },
      { name: "consequences", type: "string", required: true },
      { name: "alternatives", type: "list", required: false, default: ["none recorded"] },
    ],
    tags: ["adr", "architecture"],
  },
  {
    key: "bug-report",
    name: "Bug report",
    description: "What happened, how to make it happen again, and what was expected.",
    category: "process",
    content: `## {{title}}

Severity: {{severity}}
Version: {{version}}

### Steps to reproduce
{{steps}}

### Expected
{{expected}}

### Actual
{{actual}}
`,
    variables: [
      { name: "title", type: "string", required: true },
      {
        name: "severity",
        type: "string",
        required: false,
        default: "WARNING",
        description: "CRITICAL, ERROR, WARNING or INFO.",
      },
      { name: "version", type: "string", required: true },
      { name: "steps", type: "list", required: true },
      { name: "expected", type: "string", required: true },
      { name: "actual", type: "string", required: true },
    ],
    tags: ["bugs", "triage"],
  },
  {
    key: "code-review-checklist",
    name: "Code review checklist",
    description: "The questions a reviewer works through for a backend change.",
    category: "process",
    content: `Review of: {{change}}
Areas touched: {{areas}}

- [ ] Input from outside is validated at the boundary, with unknown fields refused
- [ ] Every query is scoped by the caller's tenant; another tenant's id is a 404
- [ ] Related writes share one transaction; no network calls inside it
- [ ] New queries have indexes, checked with EXPLAIN on realistic data
- [ ] Migrations come with their rollback (touches schema: {{touches_schema}})
- [ ] Errors carry stable codes; nothing answers 500 by design
- [ ] CPU-heavy work stays off the event loop
- [ ] Tests assert behaviour that could fail, against the real database
`,
    variables: [
      { name: "change", type: "string", required: true, description: "The pull request or change under review." },
      { name: "areas", type: "list", required: true },
      { name: "touches_schema", type: "boolean", required: false, default: false },
    ],
    tags: ["review", "quality"],
  },
  {
    key: "index-proposal",
    name: "Index proposal",
    description: "The case for a new index: the query it serves and the plans before and after.",
    category: "postgres",
    content: `# Index on {{table}} ({{columns}})

Query served:
\`\`\`sql
{{query}}
\`\`\`

Calls per minute at peak: {{calls_per_minute}}

Plan before (EXPLAIN ANALYZE, BUFFERS):
{{plan_before}}

Proposed:
\`\`\`sql
create index concurrently idx_{{table}}_{{suffix}} on {{table}} ({{columns}});
\`\`\`

Write overhead and size estimate: {{cost}}
`,
    variables: [
      { name: "table", type: "string", required: true },
      { name: "columns", type: "list", required: true },
      { name: "suffix", type: "string", required: true, description: "The index name's tail, e.g. customer_created." },
      { name: "query", type: "string", required: true },
      { name: "calls_per_minute", type: "number", required: true },
      { name: "plan_before", type: "string", required: true },
      { name: "cost", type: "string", required: false, default: "to be measured" },
    ],
    tags: ["indexes", "performance"],
  },
  {
    key: "incident-postmortem",
    name: "Incident postmortem",
    description: "A blameless account of an incident: impact, timeline, cause and follow-ups.",
    category: "operations",
    content: `# Postmortem: {{title}}

Date: {{date}}
Duration: {{duration_minutes}} minutes
Impact: {{impact}}

## Timeline
{{timeline}}

## Root cause
{{root_cause}}

## What went well
{{went_well}}

## Follow-up actions
{{actions}}
`,
    variables: [
      { name: "title", type: "string", required: true },
      { name: "date", type: "string", required: true },
      { name: "duration_minutes", type: "number", required: true },
      { name: "impact", type: "string", required: true },
      { name: "timeline", type: "list", required: true },
      { name: "root_cause", type: "string", required: true },
      { name: "went_well", type: "string", required: false, default: "" },
      { name: "actions", type: "list", required: true },
    ],
    tags: ["incidents", "operations"],
  },
];
