import type { Selectable } from "kysely";
import type { PipelineState } from "./component-types/plugin.ts";
import { camelKeys } from "./keys.ts";
import type {
  BatchView,
  ComponentView,
  ContextResultView,
  ContextView,
  PipelineView,
  StatusCountsView,
  TemplateSectionView,
  TemplateView,
} from "./schemas.ts";
import {
  CONTEXT_STATUSES,
  type ComponentType,
  type ContextStatus,
  type GenerationBatchesTable,
  type GenerationComponentsTable,
  type GenerationContextsTable,
  type GenerationPipelinesTable,
  type GenerationTemplatesTable,
} from "./tables.ts";

/** Rows as the API shows them: camelCase, ISO timestamps, the seed's word_range pairs as { min, max }. */

type StoredRange = [number, number];

/** The seed's stored form of the sections: snake_case keys, word_range as [min, max]. */
export function storedSections(sections: TemplateSectionView[]): unknown[] {
  return sections.map((s) =>
    s.type === "text"
      ? {
          id: s.id,
          type: s.type,
          name: s.name,
          instructions: s.instructions ?? null,
          word_range: [s.wordRange.min, s.wordRange.max],
        }
      : {
          id: s.id,
          type: s.type,
          name: s.name,
          min_sections: s.minSections,
          max_sections: s.maxSections,
          section_template: {
            type: "text",
            instructions: s.sectionTemplate.instructions ?? null,
            word_range: [s.sectionTemplate.wordRange.min, s.sectionTemplate.wordRange.max],
          },
        },
  );
}

function sectionsView(stored: unknown[]): TemplateSectionView[] {
  const range = ([min, max]: StoredRange) => ({ min, max });
  return (stored as any[]).map((s) =>
    s.type === "text"
      ? {
          id: s.id,
          type: "text",
          name: s.name,
          ...(s.instructions ? { instructions: s.instructions } : {}),
          wordRange: range(s.word_range),
        }
      : {
          id: s.id,
          type: "sections",
          name: s.name,
          minSections: s.min_sections,
          maxSections: s.max_sections,
          sectionTemplate: {
            type: "text",
            ...(s.section_template.instructions ? { instructions: s.section_template.instructions } : {}),
            wordRange: range(s.section_template.word_range),
          },
        },
  );
}

export function templateView(row: Selectable<GenerationTemplatesTable>): TemplateView {
  return {
    id: row.id,
    templateKey: row.template_key,
    version: row.version,
    name: row.name,
    description: row.description,
    sections: sectionsView(row.sections),
    tags: row.tags,
    metadata: row.metadata,
    isActive: row.is_active,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function componentView(row: Selectable<GenerationComponentsTable>): ComponentView {
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    description: row.description,
    config: camelKeys(row.config),
    metadata: row.metadata,
    isActive: row.is_active,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** A pipeline step as read with its component's type. */
export interface PipelineStepRow {
  component_id: string;
  type: ComponentType;
  name: string | null;
  position: number;
  config_overrides: Record<string, unknown>;
}

export function pipelineView(row: Selectable<GenerationPipelinesTable>, steps: PipelineStepRow[]): PipelineView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    defaultContextType: row.default_context_type,
    components: steps.map((step) => ({
      componentId: step.component_id,
      type: step.type,
      name: step.name,
      order: step.position,
      configOverrides: camelKeys(step.config_overrides),
    })),
    metadata: row.metadata,
    isActive: row.is_active,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Counts by status from a `group by status`, every status present (0 when none). */
export function statusCounts(rows: { status: string; count: string | number | bigint }[]): StatusCountsView {
  const counts = Object.fromEntries(CONTEXT_STATUSES.map((status) => [status, 0])) as Record<ContextStatus, number>;
  for (const row of rows) {
    if ((CONTEXT_STATUSES as readonly string[]).includes(row.status))
      counts[row.status as ContextStatus] = Number(row.count);
  }
  return counts;
}

export function contextView(row: Selectable<GenerationContextsTable>): ContextView {
  return {
    id: row.id,
    type: row.type,
    status: row.status as ContextStatus,
    priority: row.priority,
    pipelineId: row.pipeline_id,
    batchId: row.batch_id,
    pipeline: row.pipeline,
    data: row.data,
    processing: {
      startedAt: iso(row.started_at),
      completedAt: iso(row.completed_at),
      durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
      completedComponents: row.completed_components,
      componentTimings: row.component_timings,
    },
    result: row.result ? resultView(row.result as PipelineState) : null,
    error: (row.error as ContextView["error"] | null) ?? null,
    retryCount: row.retry_count,
    nextRetryAt: iso(row.next_retry_at),
    usage: { inputTokens: row.input_tokens, outputTokens: row.output_tokens, costUsd: Number(row.cost_usd) },
    metadata: row.metadata,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function batchView(row: Selectable<GenerationBatchesTable>, contextIds: string[]): BatchView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    status: row.status,
    pipelineId: row.pipeline_id,
    priority: row.priority,
    contextIds,
    contextCount: row.context_count,
    completedCount: row.completed_count,
    failedCount: row.failed_count,
    cancelledCount: row.cancelled_count,
    processingStartedAt: iso(row.processing_started_at),
    processingCompletedAt: iso(row.processing_completed_at),
    totalDurationMs: row.total_duration_ms === null ? null : Number(row.total_duration_ms),
    metadata: row.metadata,
    userId: row.user_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}

/** The stored result (seed 001's snake_case keys) as the API shows it. */
function resultView(state: PipelineState): ContextResultView {
  const view: ContextResultView = {};
  if (state.template) {
    view.template = {
      templateKey: state.template.id,
      version: state.template.version,
      title: state.template.title,
      sections: state.template.sections.map((s) => ({
        id: s.id,
        name: s.name,
        instructions: s.instructions,
        wordRange: { min: s.word_range[0], max: s.word_range[1] },
        ...(s.part_of ? { partOf: s.part_of } : {}),
      })),
    };
  }
  if (state.generated_content) view.generatedContent = state.generated_content;
  if (state.formatted_content) {
    const { format, content, table_of_contents } = state.formatted_content;
    view.formattedContent = { format, content, ...(table_of_contents ? { tableOfContents: table_of_contents } : {}) };
  }
  return view;
}
