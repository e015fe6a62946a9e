import { sql } from "kysely";
import type { Migration } from "../../platform/migrations/migration.ts";

/**
 * Seed 001's collections (templates, components, pipelines, batches,
 * contexts) as tables, with every index of its Indexing Strategy section.
 *
 * Every row is the organization's (its tenant, and the seed's sharding key):
 * each seed index on one field becomes an index led by organization_id,
 * since every query the API makes is scoped by it; the worker-polling ones
 * stay cross-tenant, because one worker serves every organization. Where the
 * seed's query filters on a status, the index is partial on it.
 *
 * The seed's nested documents: what a query filters or sorts on is a real
 * column (a context's metadata.priority, a template's metadata.tags), the
 * open-ended rest is JSONB; a pipeline's ordered components reference
 * component rows, so they are a child table with foreign keys rather than an
 * array the database cannot check. Timestamps are timestamptz(3).
 */
export const generationMigrations: Migration[] = [
  {
    version: 200,
    name: "generation_data",
    async up(db) {
      // --- templates: versioned; a new version is a new row with the same key and version + 1.
      await sql`
        create table generation_templates (
          id uuid primary key default gen_random_uuid(),
          organization_id uuid not null references organizations (id) on delete cascade,
          template_key text not null check (template_key ~ '^[a-z0-9][a-z0-9_.-]{0,99}$'),
          version integer not null check (version > 0),
          name text not null check (length(name) between 1 and 200),
          description text check (length(description) <= 2000),
          sections jsonb not null check (jsonb_typeof(sections) = 'array'),
          tags text[] not null default '{}' check (cardinality(tags) <= 50),
          metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
          is_active boolean not null default true,
          created_by uuid references users (id) on delete set null,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now(),
          constraint generation_templates_key_version unique (organization_id, template_key, version)
        )`.execute(db);
      // Seed: templates.organization_id, "for organization-based queries" (the newest first, for pages).
      await sql`create index generation_templates_organization_id_idx on generation_templates (organization_id, created_at desc, id desc)`.execute(
        db,
      );
      // Seed: templates.metadata.tags (multikey), "for tag-based searches": a GIN index on the promoted column.
      await sql`create index generation_templates_tags_idx on generation_templates using gin (tags)`.execute(db);
      // Seed: templates.is_active, "for active templates": an organization's active ones, latest version first.
      await sql`create index generation_templates_is_active_idx on generation_templates (organization_id, template_key, version desc) where is_active`.execute(
        db,
      );

      // --- components: template, ai_generator or transformer, each with its config.
      await sql`
        create table generation_components (
          id uuid primary key default gen_random_uuid(),
          organization_id uuid not null references organizations (id) on delete cascade,
          name text not null check (length(name) between 1 and 200),
          type text not null check (type in ('template', 'ai_generator', 'transformer')),
          description text check (length(description) <= 2000),
          config jsonb not null default '{}' check (jsonb_typeof(config) = 'object'),
          metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
          is_active boolean not null default true,
          created_by uuid references users (id) on delete set null,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      // Seed: components.type, "for component type queries" (the registry loads an organization's by type).
      await sql`create index generation_components_type_idx on generation_components (organization_id, type)`.execute(
        db,
      );
      // Seed: components.organization_id, "for organization-based queries".
      await sql`create index generation_components_organization_id_idx on generation_components (organization_id, created_at desc, id desc)`.execute(
        db,
      );
      // Seed: components.is_active, "for active components": the active ones of an organization, by type.
      await sql`create index generation_components_is_active_idx on generation_components (organization_id, type) where is_active`.execute(
        db,
      );

      // --- pipelines and their ordered components.
      await sql`
        create table generation_pipelines (
          id uuid primary key default gen_random_uuid(),
          organization_id uuid not null references organizations (id) on delete cascade,
          name text not null check (length(name) between 1 and 200),
          description text check (length(description) <= 2000),
          default_context_type text check (length(default_context_type) between 1 and 100),
          metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
          is_active boolean not null default true,
          created_by uuid references users (id) on delete set null,
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      // Seed: pipelines.organization_id, "for organization-based queries".
      await sql`create index generation_pipelines_organization_id_idx on generation_pipelines (organization_id, created_at desc, id desc)`.execute(
        db,
      );
      // Seed: pipelines.is_active, "for active pipelines".
      await sql`create index generation_pipelines_is_active_idx on generation_pipelines (organization_id, name) where is_active`.execute(
        db,
      );
      // Seed: pipelines.default_context_type, "for context type matching": the active pipeline for a context's type.
      await sql`create index generation_pipelines_default_context_type_idx on generation_pipelines (organization_id, default_context_type) where is_active`.execute(
        db,
      );
      // The seed's pipelines.components array: position is the seed's "order".
      await sql`
        create table generation_pipeline_components (
          pipeline_id uuid not null references generation_pipelines (id) on delete cascade,
          position integer not null check (position > 0),
          component_id uuid not null references generation_components (id),
          organization_id uuid not null references organizations (id) on delete cascade,
          name text check (length(name) between 1 and 200),
          config_overrides jsonb not null default '{}' check (jsonb_typeof(config_overrides) = 'object'),
          primary key (pipeline_id, position)
        )`.execute(db);
      // Not in the seed: the foreign key's reverse lookup (which pipelines use a component), so deleting
      // or deactivating a component does not scan every pipeline.
      await sql`create index generation_pipeline_components_component_id_idx on generation_pipeline_components (component_id)`.execute(
        db,
      );

      // --- batches.
      await sql`
        create table generation_batches (
          id uuid primary key,
          organization_id uuid not null references organizations (id) on delete cascade,
          user_id uuid not null references users (id) on delete cascade,
          pipeline_id uuid references generation_pipelines (id) on delete set null,
          name text not null check (length(name) between 1 and 200),
          description text check (length(description) <= 2000),
          status text not null default 'pending'
            check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled')),
          priority smallint not null default 5 check (priority between 1 and 10),
          context_count integer not null default 0 check (context_count >= 0),
          completed_count integer not null default 0 check (completed_count >= 0),
          failed_count integer not null default 0 check (failed_count >= 0),
          processing_started_at timestamptz(3),
          processing_completed_at timestamptz(3),
          total_duration_ms bigint check (total_duration_ms >= 0),
          metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      // Not in the Indexing Strategy: the seed shards batches by (organization_id, created_at), which is how
      // they are listed. (The seed's batches.context_ids is the contexts' batch_id index below.)
      await sql`create index generation_batches_organization_id_idx on generation_batches (organization_id, created_at desc, id desc)`.execute(
        db,
      );

      // --- contexts: what workers process.
      await sql`
        create table generation_contexts (
          id uuid primary key,
          organization_id uuid not null references organizations (id) on delete cascade,
          user_id uuid not null references users (id) on delete cascade,
          batch_id uuid references generation_batches (id) on delete set null,
          pipeline_id uuid references generation_pipelines (id) on delete set null,
          type text not null check (length(type) between 1 and 100),
          status text not null default 'pending'
            check (status in ('pending', 'processing', 'completed', 'failed', 'cancelled')),
          priority smallint not null default 5 check (priority between 1 and 10),
          pipeline text[] not null default '{}',
          data jsonb not null default '{}' check (jsonb_typeof(data) = 'object'),
          result jsonb,
          error jsonb,
          started_at timestamptz(3),
          completed_at timestamptz(3),
          duration_ms bigint check (duration_ms >= 0),
          completed_components text[] not null default '{}',
          component_timings jsonb not null default '{}' check (jsonb_typeof(component_timings) = 'object'),
          retry_count integer not null default 0 check (retry_count >= 0),
          next_retry_at timestamptz(3),
          input_tokens integer not null default 0 check (input_tokens >= 0),
          output_tokens integer not null default 0 check (output_tokens >= 0),
          cost_usd numeric(12, 6) not null default 0 check (cost_usd >= 0),
          metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
          created_at timestamptz(3) not null default now(),
          updated_at timestamptz(3) not null default now()
        )`.execute(db);
      // Seed: contexts (status, created_at), "for worker polling": oldest first across organizations. Only
      // the states a worker looks for (pending to claim, processing to reclaim a dead worker's) are indexed.
      await sql`create index generation_contexts_status_created_at_idx on generation_contexts (status, created_at) where status in ('pending', 'processing')`.execute(
        db,
      );
      // Seed: contexts.batch_id, "for batch operations"; with status, the seed's batch status summary
      // (group by status for one batch) reads the index alone.
      await sql`create index generation_contexts_batch_id_idx on generation_contexts (batch_id, status) where batch_id is not null`.execute(
        db,
      );
      // Seed: contexts.user_id, "for user-based queries": its User Context History query (a user's in an
      // organization, newest first).
      await sql`create index generation_contexts_user_id_idx on generation_contexts (user_id, organization_id, created_at desc, id desc)`.execute(
        db,
      );
      // Seed: contexts.organization_id, "for organization-based queries"; also what counts an
      // organization's contexts created today against max_contexts_per_day.
      await sql`create index generation_contexts_organization_id_idx on generation_contexts (organization_id, created_at desc)`.execute(
        db,
      );
      // Seed: contexts.type, "for filtering by type" (within an organization).
      await sql`create index generation_contexts_type_idx on generation_contexts (organization_id, type)`.execute(db);
      // Seed: contexts (metadata.priority, status, created_at), "for priority-based polling": its Worker
      // Service Polling query (pending, one organization, by priority then age), partial on the status.
      await sql`create index generation_contexts_priority_idx on generation_contexts (organization_id, priority, created_at) where status = 'pending'`.execute(
        db,
      );
    },
    async down(db) {
      await sql`drop table generation_contexts`.execute(db);
      await sql`drop table generation_batches`.execute(db);
      await sql`drop table generation_pipeline_components`.execute(db);
      await sql`drop table generation_pipelines`.execute(db);
      await sql`drop table generation_components`.execute(db);
      await sql`drop table generation_templates`.execute(db);
    },
  },
  {
    version: 201,
    name: "generation_processing",
    async up(db) {
      // A batch is finished when every context has ended one way or another:
      // completed, failed, or cancelled (counted here, as the other two are).
      await sql`alter table generation_batches add column cancelled_count integer not null default 0 check (cancelled_count >= 0)`.execute(
        db,
      );
      // The worker (its id, as in worker_lock and worker_heartbeat) that last took the context.
      await sql`alter table generation_contexts add column worker_id text`.execute(db);
    },
    async down(db) {
      await sql`alter table generation_contexts drop column worker_id`.execute(db);
      await sql`alter table generation_batches drop column cancelled_count`.execute(db);
    },
  },
  {
    version: 202,
    name: "generation_contexts_by_pipeline",
    async up(db) {
      // Not in the seed: a pipeline's contexts counted by status (its statistics), the seed's Batch
      // Status aggregation asked of a pipeline, read from the index alone as the batch's is; also the
      // reverse lookup of the pipeline_id foreign key (on delete set null).
      await sql`create index generation_contexts_pipeline_id_idx on generation_contexts (pipeline_id, status) where pipeline_id is not null`.execute(
        db,
      );
    },
    async down(db) {
      await sql`drop index generation_contexts_pipeline_id_idx`.execute(db);
    },
  },
  {
    version: 203,
    name: "generation_context_changes",
    async up(db) {
      // Not in the seed: a context's status, as it changes, on the platform's change feed (topic `context`,
      // for the organization's members). A trigger, because a context starts and ends inside the job
      // service's claim statement as well as in this module's own writes; the outbox row commits with the
      // change, and the outbox's own trigger has it relayed.
      await sql`
        create function generation_context_change() returns trigger language plpgsql as $$
        begin
          if tg_op = 'INSERT' or new.status is distinct from old.status then
            insert into change_outbox (topic, subject, event, audience, data)
            values ('context', new.id::text, 'context.status',
              jsonb_build_object('organizationId', new.organization_id),
              jsonb_build_object('id', new.id, 'status', new.status, 'batchId', new.batch_id,
                'pipelineId', new.pipeline_id, 'error', new.error, 'updatedAt', new.updated_at));
          end if;
          return null;
        end $$`.execute(db);
      await sql`
        create trigger generation_context_change after insert or update of status on generation_contexts
        for each row execute function generation_context_change()`.execute(db);
    },
    async down(db) {
      await sql`drop trigger generation_context_change on generation_contexts`.execute(db);
      await sql`drop function generation_context_change()`.execute(db);
    },
  },
];
