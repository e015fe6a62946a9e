import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/** Columns every knowledge table adds to the seed's: its tenant (null: a system entry), its writers, its times. */
const SHARED = sql.raw(`
  id uuid primary key default gen_random_uuid(),
  organization_id uuid references organizations (id) on delete cascade,
  created_by uuid references users (id) on delete set null,
  updated_by uuid references users (id) on delete set null,
  tags jsonb not null default '[]' check (jsonb_typeof(tags) = 'array'),
  created_at timestamptz(3) not null default now(),
  updated_at timestamptz(3) not null default now(),
  deactivated_at timestamptz(3)`);

/**
 * Seed 004's rules, practices and templates, numbered in sequence, each with
 * its rollback (the seed's migration discipline). Departures, each for a
 * reason:
 * - tables are prefixed `knowledge_` (the generation module has templates of
 *   its own) and keyed by a UUID; the seed's meaningful identifiers
 *   (rule_id, practice_id, template_id) stay, unique within an organization
 *   and among system entries (`organization_id` null);
 * - every entry carries its tenant, who wrote it and when it changed; all
 *   three carry `tags` (the issue filters every kind by tag; the seed gives
 *   them to templates only), with a GIN index;
 * - `deactivated_at` records when the active flag went false: the archive
 *   job moves entries inactive for two years by it;
 * - NOT NULL wherever the seed gives a default (a null severity or flag
 *   would pass the seed's CHECKs and mean nothing); scores are checked to
 *   lie between 0 and 1; the seed's `status` gets a closed set;
 * - templates get a full-text index too (name and description): knowledge
 *   search covers all three kinds.
 */
export const knowledgeMigrations: Migration[] = [
  {
    version: 500,
    name: "knowledge_schema",
    async up(db) {
      await sql`
        create table knowledge_rules (
          ${SHARED},
          rule_id varchar(50) not null,
          category varchar(100) not null,
          title varchar(255) not null,
          description text not null,
          severity varchar(20) not null check (severity in ('CRITICAL', 'ERROR', 'WARNING', 'INFO')),
          enforcement varchar(20) not null check (enforcement in ('mandatory', 'recommended', 'optional')),
          examples jsonb not null default '[]' check (jsonb_typeof(examples) = 'array'),
          anti_patterns jsonb not null default '[]' check (jsonb_typeof(anti_patterns) = 'array'),
          violations_consequence text,
          active boolean not null default true,
          priority integer not null default 0,
          status varchar(20) not null default 'ACTIVE' check (status in ('ACTIVE', 'DRAFT', 'DEPRECATED')),
          constraint knowledge_rules_key unique nulls not distinct (organization_id, rule_id)
        )`.execute(db);
      await sql`
        create table knowledge_practices (
          ${SHARED},
          practice_id varchar(50) not null,
          category varchar(100) not null,
          title varchar(255) not null,
          description text not null,
          benefits jsonb not null default '[]' check (jsonb_typeof(benefits) = 'array'),
          implementation_guide text,
          anti_patterns jsonb not null default '[]' check (jsonb_typeof(anti_patterns) = 'array'),
          "references" jsonb not null default '[]' check (jsonb_typeof("references") = 'array'),
          examples jsonb not null default '[]' check (jsonb_typeof(examples) = 'array'),
          effectiveness_score decimal(3, 2) check (effectiveness_score between 0 and 1),
          adoption_rate decimal(3, 2) check (adoption_rate between 0 and 1),
          is_active boolean not null default true,
          is_required boolean not null default false,
          constraint knowledge_practices_key unique nulls not distinct (organization_id, practice_id)
        )`.execute(db);
      await sql`
        create table knowledge_templates (
          ${SHARED},
          template_id varchar(50) not null,
          name varchar(255) not null,
          description text,
          category varchar(100) not null,
          template_content text not null,
          variables jsonb not null default '[]' check (jsonb_typeof(variables) = 'array'),
          usage_count integer not null default 0 check (usage_count >= 0),
          is_active boolean not null default true,
          constraint knowledge_templates_key unique nulls not distinct (organization_id, template_id)
        )`.execute(db);
      // The seed's indexes, on the renamed tables: category lookups and severity order on active rows only.
      await sql`create index idx_rules_category on knowledge_rules (category) where active = true`.execute(db);
      await sql`create index idx_practices_category on knowledge_practices (category) where is_active = true`.execute(
        db,
      );
      await sql`create index idx_templates_category on knowledge_templates (category) where is_active = true`.execute(
        db,
      );
      await sql`create index idx_rules_severity on knowledge_rules (severity, created_at desc) where active = true`.execute(
        db,
      );
      await sql`create index idx_rules_search on knowledge_rules
        using gin (to_tsvector('english', title || ' ' || description))`.execute(db);
      await sql`create index idx_practices_search on knowledge_practices
        using gin (to_tsvector('english', title || ' ' || description))`.execute(db);
      await sql`create index idx_templates_search on knowledge_templates
        using gin (to_tsvector('english', name || ' ' || coalesce(description, '')))`.execute(db);
      await sql`create index idx_rules_examples on knowledge_rules using gin (examples)`.execute(db);
      await sql`create index idx_practices_benefits on knowledge_practices using gin (benefits)`.execute(db);
      for (const table of ["knowledge_rules", "knowledge_practices", "knowledge_templates"]) {
        await sql`create index ${sql.id(`idx_${table}_tags`)} on ${sql.id(table)} using gin (tags)`.execute(db);
        // Titles matched by trigram similarity in hybrid search.
        const title = table === "knowledge_templates" ? "name" : "title";
        await sql`create index ${sql.id(`idx_${table}_title_trgm`)} on ${sql.id(table)}
          using gin (${sql.id(title)} gin_trgm_ops)`.execute(db);
      }
    },
    async down(db) {
      await sql`drop table knowledge_templates`.execute(db);
      await sql`drop table knowledge_practices`.execute(db);
      await sql`drop table knowledge_rules`.execute(db);
    },
  },
  {
    version: 501,
    name: "knowledge_archive",
    async up(db) {
      // Seed 004's archive strategy: entries inactive for two years move here, as they were, with when they moved.
      for (const table of ["knowledge_rules", "knowledge_practices", "knowledge_templates"]) {
        await sql`create table ${sql.id(`${table}_archive`)} (
          like ${sql.id(table)} including defaults including constraints,
          archived_at timestamptz(3) not null default now(),
          primary key (id)
        )`.execute(db);
        // An organization's archive goes with it, as its live entries do.
        await sql`alter table ${sql.id(`${table}_archive`)} add foreign key (organization_id)
          references organizations (id) on delete cascade`.execute(db);
      }
    },
    async down(db) {
      for (const table of ["knowledge_templates", "knowledge_practices", "knowledge_rules"]) {
        await sql`drop table ${sql.id(`${table}_archive`)}`.execute(db);
      }
    },
  },
];
