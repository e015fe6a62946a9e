import { type Static, Type } from "typebox";
import { Label, Nullable, StrictObject, StringEnum, Uuid } from "../../platform/schemas.ts";
import { COMPONENT_TYPES, CONTEXT_STATUSES } from "./tables.ts";

/**
 * The generation module's resources as the API will show and take them
 * (camelCase; the tables and their JSONB keep seed 001's snake_case).
 */

const Description = Type.String({ maxLength: 2000 });
const Metadata = Type.Record(Type.String(), Type.Unknown());
const Priority = Type.Integer({
  minimum: 1,
  maximum: 10,
  description: "1 is processed first (seed 001's metadata.priority).",
});

// --- templates ---------------------------------------------------------------

/** Words a section should have; min ≤ max is checked by the service. */
export const WordRange = StrictObject({
  min: Type.Integer({ minimum: 0, maximum: 100_000 }),
  max: Type.Integer({ minimum: 1, maximum: 100_000 }),
});
export type WordRangeView = Static<typeof WordRange>;

const TextSection = StrictObject({
  id: Label(100),
  type: Type.Literal("text"),
  name: Label(200),
  instructions: Type.Optional(Type.String({ maxLength: 5000 })),
  wordRange: WordRange,
});

/** A repeated section: between minSections and maxSections instances of sectionTemplate. */
const RepeatedSection = StrictObject({
  id: Label(100),
  type: Type.Literal("sections"),
  name: Label(200),
  minSections: Type.Integer({ minimum: 0, maximum: 100 }),
  maxSections: Type.Integer({ minimum: 1, maximum: 100 }),
  sectionTemplate: StrictObject({
    type: Type.Literal("text"),
    instructions: Type.Optional(Type.String({ maxLength: 5000 })),
    wordRange: WordRange,
  }),
});

export const TemplateSection = Type.Union([TextSection, RepeatedSection]);
export type TemplateSectionView = Static<typeof TemplateSection>;

export const TemplateKey = Type.String({
  pattern: "^[a-z0-9][a-z0-9_.-]{0,99}$",
  description: "Stable across versions, e.g. tmpl_article_technical.",
});

export const TemplateInput = StrictObject({
  templateKey: TemplateKey,
  name: Label(200),
  description: Type.Optional(Description),
  sections: Type.Array(TemplateSection, { minItems: 1, maxItems: 50 }),
  tags: Type.Optional(Type.Array(Label(50), { maxItems: 50 })),
  metadata: Type.Optional(Metadata),
});
export type TemplateInputBody = Static<typeof TemplateInput>;

/** A new version of a template: the whole template again, under the same key. */
export const TemplateVersionInput = StrictObject({
  name: Label(200),
  description: Type.Optional(Description),
  sections: Type.Array(TemplateSection, { minItems: 1, maxItems: 50 }),
  tags: Type.Optional(Type.Array(Label(50), { maxItems: 50 })),
  metadata: Type.Optional(Metadata),
});
export type TemplateVersionInputBody = Static<typeof TemplateVersionInput>;

/** The fields every definition (template, component, pipeline) ends with. */
const definitionTail = {
  metadata: Metadata,
  isActive: Type.Boolean(),
  createdBy: Nullable(Uuid),
  createdAt: Type.String(),
  updatedAt: Type.String(),
};

export const Template = Type.Object({
  id: Uuid,
  templateKey: Type.String(),
  version: Type.Integer(),
  name: Type.String(),
  description: Nullable(Type.String()),
  sections: Type.Array(TemplateSection),
  tags: Type.Array(Type.String()),
  ...definitionTail,
});
export type TemplateView = Static<typeof Template>;

// --- components --------------------------------------------------------------

/** An ai_generator's config (seed 001's fields); the model must be one the organization allows. */
export const AiGeneratorConfig = StrictObject({
  model: Label(100),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 2 })),
  maxTokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 200_000 })),
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  frequencyPenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  presencePenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  stopSequences: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 4 })),
});

/** A template component's config: the template it lays out (its key; the latest active version is used). */
export const TemplateComponentConfig = StrictObject({
  templateKey: Type.Optional(TemplateKey),
});

export const TRANSFORMER_FORMATS = ["markdown", "html", "text"] as const;
export const TransformerConfig = StrictObject({
  format: StringEnum(TRANSFORMER_FORMATS),
  addTableOfContents: Type.Optional(Type.Boolean()),
});

const componentFields = {
  name: Label(200),
  description: Type.Optional(Description),
  metadata: Type.Optional(Metadata),
};

/** A component of one type with that type's config. */
export const ComponentInput = Type.Union([
  StrictObject({ ...componentFields, type: Type.Literal("template"), config: TemplateComponentConfig }),
  StrictObject({ ...componentFields, type: Type.Literal("ai_generator"), config: AiGeneratorConfig }),
  StrictObject({ ...componentFields, type: Type.Literal("transformer"), config: TransformerConfig }),
]);
export type ComponentInputBody = Static<typeof ComponentInput>;

export const Component = Type.Object({
  id: Uuid,
  name: Type.String(),
  type: StringEnum(COMPONENT_TYPES),
  description: Nullable(Type.String()),
  config: Type.Record(Type.String(), Type.Unknown()),
  ...definitionTail,
});
export type ComponentView = Static<typeof Component>;

/** The config of a component of each type, declared once for creating and for updating. */
export const CONFIG_BY_TYPE = {
  template: TemplateComponentConfig,
  ai_generator: AiGeneratorConfig,
  transformer: TransformerConfig,
} as const satisfies Record<(typeof COMPONENT_TYPES)[number], unknown>;

/** What may change of a component; its type may not (make another component instead). */
export const ComponentUpdate = StrictObject({
  name: Type.Optional(Label(200)),
  description: Type.Optional(Nullable(Description)),
  config: Type.Optional(
    Type.Union([TemplateComponentConfig, AiGeneratorConfig, TransformerConfig], {
      description: "The whole config of the component's type; it replaces the stored one.",
    }),
  ),
  isActive: Type.Optional(Type.Boolean()),
});
export type ComponentUpdateBody = Static<typeof ComponentUpdate>;

// --- pipelines ---------------------------------------------------------------

export const PipelineStepInput = StrictObject({
  componentId: Uuid,
  name: Type.Optional(Label(200)),
  /** Partial config of the component's type, applied over its own. */
  configOverrides: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});

export const PipelineInput = StrictObject({
  name: Label(200),
  description: Type.Optional(Description),
  defaultContextType: Type.Optional(Label(100)),
  components: Type.Array(PipelineStepInput, { minItems: 1, maxItems: 20, description: "In the order they run." }),
  metadata: Type.Optional(Metadata),
});
export type PipelineInputBody = Static<typeof PipelineInput>;

export const Pipeline = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  defaultContextType: Nullable(Type.String()),
  components: Type.Array(
    Type.Object({
      componentId: Uuid,
      type: StringEnum(COMPONENT_TYPES),
      name: Nullable(Type.String()),
      order: Type.Integer(),
      configOverrides: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
  ...definitionTail,
});
export type PipelineView = Static<typeof Pipeline>;

/** What may change of a pipeline; `components`, when given, replaces its steps whole. */
export const PipelineUpdate = StrictObject({
  name: Type.Optional(Label(200)),
  description: Type.Optional(Nullable(Description)),
  defaultContextType: Type.Optional(Nullable(Label(100))),
  isActive: Type.Optional(Type.Boolean()),
  components: Type.Optional(
    Type.Array(PipelineStepInput, { minItems: 1, maxItems: 20, description: "In the order they run." }),
  ),
});
export type PipelineUpdateBody = Static<typeof PipelineUpdate>;

// --- contexts and batches ------------------------------------------------------

export const ContextInput = StrictObject({
  type: Label(100),
  pipelineId: Type.Optional(Uuid),
  priority: Type.Optional(Priority),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  metadata: Type.Optional(Metadata),
});
export type ContextInputBody = Static<typeof ContextInput>;

/** What a context's components made (seed 001's data.template, generated_content, formatted_content). */
export const ContextResult = Type.Object({
  template: Type.Optional(
    Type.Object({
      templateKey: Type.String(),
      version: Type.Integer(),
      title: Nullable(Type.String()),
      sections: Type.Array(
        Type.Object({
          id: Type.String(),
          name: Type.String(),
          instructions: Nullable(Type.String()),
          wordRange: WordRange,
          partOf: Type.Optional(Type.String({ description: "The repeated section this is an instance of." })),
        }),
      ),
    }),
  ),
  generatedContent: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), {
      description: "Per section id: its text, or each instance's text for a repeated section.",
    }),
  ),
  formattedContent: Type.Optional(
    Type.Object({
      format: Type.String(),
      content: Type.String(),
      tableOfContents: Type.Optional(Type.Array(Type.String())),
    }),
  ),
});
export type ContextResultView = Static<typeof ContextResult>;

export const Context = Type.Object({
  id: Uuid,
  type: Type.String(),
  status: StringEnum(CONTEXT_STATUSES),
  priority: Type.Integer(),
  pipelineId: Nullable(Uuid),
  batchId: Nullable(Uuid),
  pipeline: Type.Array(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown()),
  /** The seed's processing: when it started and ended, the components done and each one's milliseconds. */
  processing: Type.Object({
    startedAt: Nullable(Type.String()),
    completedAt: Nullable(Type.String()),
    durationMs: Nullable(Type.Integer()),
    completedComponents: Type.Array(Type.String()),
    componentTimings: Type.Record(Type.String(), Type.Integer()),
  }),
  /** What the pipeline made: the filled template, the generated sections, the formatted content. */
  result: Nullable(ContextResult),
  error: Nullable(Type.Object({ code: Type.String(), message: Type.String(), component: Nullable(Type.String()) })),
  retryCount: Type.Integer(),
  nextRetryAt: Nullable(Type.String()),
  usage: Type.Object({ inputTokens: Type.Integer(), outputTokens: Type.Integer(), costUsd: Type.Number() }),
  metadata: Metadata,
  userId: Uuid,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type ContextView = Static<typeof Context>;

export const BatchInput = StrictObject({
  name: Label(200),
  description: Type.Optional(Description),
  pipelineId: Uuid,
  priority: Type.Optional(Priority),
  /** Each context of the batch; their count is held to the organization's max_batch_size. */
  contexts: Type.Array(
    StrictObject({
      type: Type.Optional(Label(100)),
      data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      metadata: Type.Optional(Metadata),
    }),
    { minItems: 1 },
  ),
  metadata: Type.Optional(Metadata),
});
export type BatchInputBody = Static<typeof BatchInput>;

export const Batch = Type.Object({
  id: Uuid,
  name: Type.String(),
  description: Nullable(Type.String()),
  status: StringEnum(CONTEXT_STATUSES),
  pipelineId: Nullable(Uuid),
  priority: Type.Integer(),
  contextIds: Type.Array(Uuid),
  contextCount: Type.Integer(),
  completedCount: Type.Integer(),
  failedCount: Type.Integer(),
  cancelledCount: Type.Integer(),
  processingStartedAt: Nullable(Type.String()),
  processingCompletedAt: Nullable(Type.String()),
  totalDurationMs: Nullable(Type.Integer()),
  metadata: Metadata,
  userId: Uuid,
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
export type BatchView = Static<typeof Batch>;

// --- summaries, workers and statistics ------------------------------------------

const Count = Type.Integer({ minimum: 0 });

/** How many contexts are in each status (every status, 0 included). */
export const StatusCounts = Type.Object({
  pending: Count,
  processing: Count,
  completed: Count,
  failed: Count,
  cancelled: Count,
});
export type StatusCountsView = Static<typeof StatusCounts>;
// Its keys are exactly CONTEXT_STATUSES (a compile-time check both ways).
const countsEveryStatus: [keyof StatusCountsView] extends [(typeof CONTEXT_STATUSES)[number]]
  ? [(typeof CONTEXT_STATUSES)[number]] extends [keyof StatusCountsView]
    ? true
    : false
  : false = true;
void countsEveryStatus;

/** A batch with its contexts' summary: the seed's Batch Status aggregation, and their usage added up. */
export const BatchWithSummary = Type.Object({
  ...Batch.properties,
  summary: Type.Object({
    contexts: StatusCounts,
    inputTokens: Count,
    outputTokens: Count,
    costUsd: Type.Number({ minimum: 0 }),
  }),
});
export type BatchWithSummaryView = Static<typeof BatchWithSummary>;

/** The statuses a worker reports in its heartbeat. */
export const WORKER_STATUSES = ["idle", "processing", "stopping"] as const;

/** A live worker, from its heartbeat (seed 001's worker_heartbeat hash). */
export const Worker = Type.Object({
  workerId: Type.String(),
  status: StringEnum(WORKER_STATUSES),
  lastSeen: Type.String({ description: "When it last beat; a worker silent for 60 s is gone from the list." }),
  processingCount: Count,
  host: Type.String(),
  pid: Nullable(Type.Integer()),
  concurrency: Nullable(Type.Integer({ description: "Contexts it may hold at once." })),
  startedAt: Nullable(Type.String()),
});
export type WorkerView = Static<typeof Worker>;

const Millis = Nullable(Type.Integer({ minimum: 0 }));

/** A pipeline's recent processing times (seed 001's pipeline_stats) and its contexts by status. */
export const PipelineStats = Type.Object({
  pipelineId: Uuid,
  /** The durations counted: contexts that completed since `since` (a day before the answer). */
  since: Type.String(),
  durations: Type.Object({
    count: Count,
    meanMs: Nullable(Type.Number({ minimum: 0 })),
    p50Ms: Millis,
    p95Ms: Millis,
    maxMs: Millis,
  }),
  contexts: StatusCounts,
});
export type PipelineStatsView = Static<typeof PipelineStats>;
