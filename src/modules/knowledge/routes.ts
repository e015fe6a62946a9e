import { type TProperties, type TSchema, Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requirePrincipal } from "../../http/principal.ts";
import { Label, listQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { getFromCopy, listFromCopy } from "./copy-reads.ts";
import { createEntry, deleteEntry, type EntryFilters, getEntry, listEntries, updateEntry } from "./entries.ts";
import { type AnyKind, practices, rules, templates } from "./kinds.ts";
import { KnowledgeCopy } from "./knowledge-copy.ts";
import {
  Enforcement,
  NewPractice,
  NewRule,
  NewTemplate,
  Practice,
  PracticePatch,
  RenderedTemplate,
  Rule,
  RulePatch,
  RuleStatus,
  Severity,
  Template,
  TemplatePatch,
  TemplateUse,
} from "./schemas.ts";
import { registerKnowledgeSearchRoute } from "./search-route.ts";
import { readOrCopy, STALE_HEADERS } from "./stale-reads.ts";
import { useTemplate } from "./template-use.ts";

const tags = ["knowledge"];
const WRITE_ERRORS = [...WRITE_ROUTE, ...NEEDS_ACCOUNT, "insufficient_role"] as const;

/** How one kind appears in the API: its schemas, its operations' names and its own list filters. */
interface KindRoutes {
  spec: AnyKind;
  /** `Rule`, `Practice`, `Template`: operation ids are made from it. */
  noun: string;
  /** The path parameter naming one entry. */
  param: string;
  view: TSchema;
  create: TSchema;
  patch: TSchema;
  filters: TProperties;
  /** The kind's own filters as columns. */
  columns(query: Record<string, unknown>): Record<string, string | boolean>;
}

const only = (pairs: [string, unknown][]) =>
  Object.fromEntries(pairs.filter(([, v]) => v !== undefined)) as Record<string, string | boolean>;

const KIND_ROUTES: KindRoutes[] = [
  {
    spec: rules,
    noun: "Rule",
    param: "ruleId",
    view: Rule,
    create: NewRule,
    patch: RulePatch,
    filters: {
      severity: Type.Optional(Severity),
      enforcement: Type.Optional(Enforcement),
      status: Type.Optional(RuleStatus),
    },
    columns: (q) =>
      only([
        ["severity", q.severity],
        ["enforcement", q.enforcement],
        ["status", q.status],
      ]),
  },
  {
    spec: practices,
    noun: "Practice",
    param: "practiceId",
    view: Practice,
    create: NewPractice,
    patch: PracticePatch,
    filters: { required: Type.Optional(Type.Boolean({ description: "Only required (or only optional) practices." })) },
    columns: (q) => only([["is_required", q.required]]),
  },
  {
    spec: templates,
    noun: "Template",
    // Not `templateId`: the generation module's templates take that name.
    param: "knowledgeTemplateId",
    view: Template,
    create: NewTemplate,
    patch: TemplatePatch,
    filters: {},
    columns: () => ({}),
  },
];

/**
 * The knowledge module's HTTP API (seed 004), under /v1/knowledge: rules,
 * practices and templates, each listed (filtered by category, tag and its
 * own columns), read, created, changed and deleted (softly); templates used;
 * and search across all three. Reads fall back to the process's local copy
 * while the database is down (marked stale); writes then answer 503.
 */
export async function registerKnowledgeRoutes(app: App, platform: Platform) {
  const copy = new KnowledgeCopy(platform);
  const stop = await copy.start();
  app.addHook("onClose", stop);
  for (const kind of KIND_ROUTES) registerKind(app, platform, kind, copy);
  registerTemplateUse(app, platform);
  registerKnowledgeSearchRoute(app, platform, copy);
}

function registerKind(app: App, platform: Platform, kind: KindRoutes, copy: KnowledgeCopy) {
  const { spec, noun, param } = kind;
  const base = `/knowledge/${spec.plural}`;
  const one = `${base}/:${param}`;
  const EntryParams = Type.Object({ [param]: Uuid });
  const idOf = (params: unknown) => (params as Record<string, string>)[param] as string;
  const notFound = "knowledge_entry_not_found" as const;

  app.post(
    base,
    {
      schema: {
        tags,
        operationId: `createKnowledge${noun}`,
        summary: `Add a ${spec.kind} to the organization (admins)`,
        security: BEARER,
        body: kind.create,
        response: {
          201: described(kind.view, `The ${spec.kind}.`),
          ...errorResponses(...WRITE_ERRORS, "validation_failed", "knowledge_key_taken"),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await createEntry(platform, requirePrincipal(request), spec, request.body as Record<string, unknown>)),
  );

  app.get(
    base,
    {
      schema: {
        tags,
        operationId: `listKnowledge${noun}s`,
        summary: `The system's ${spec.plural} and the organization's own, oldest first`,
        security: BEARER,
        querystring: listQuery({
          category: Type.Optional(Label(100)),
          tag: Type.Optional(Label(50, { description: `only ${spec.plural} with this tag` })),
          active: Type.Boolean({ default: true, description: "false lists the deleted ones instead." }),
          system: Type.Optional(
            Type.Boolean({ description: "true: only system entries; false: only the organization's own." }),
          ),
          ...kind.filters,
        }),
        response: {
          200: { ...described(pageOf(kind.view), `A page of ${spec.plural}.`), headers: STALE_HEADERS },
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request, reply) => {
      const q = request.query as Record<string, unknown> & { limit: number; cursor?: string; active: boolean };
      const filters: EntryFilters = {
        active: q.active,
        ...(q.category !== undefined ? { category: q.category as string } : {}),
        ...(q.tag !== undefined ? { tag: q.tag as string } : {}),
        ...(q.system !== undefined ? { system: q.system as boolean } : {}),
        columns: kind.columns(q),
      };
      const principal = requirePrincipal(request);
      const page = { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) };
      return readOrCopy(
        copy,
        reply,
        () => listEntries(platform, principal, spec, filters, page),
        (rows) => listFromCopy(rows, principal, spec, filters, page),
      );
    },
  );

  app.get(
    one,
    {
      schema: {
        tags,
        operationId: `getKnowledge${noun}`,
        summary: `A ${spec.kind}`,
        security: BEARER,
        params: EntryParams,
        response: {
          200: { ...described(kind.view, `The ${spec.kind}.`), headers: STALE_HEADERS },
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", notFound),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const id = idOf(request.params);
      return readOrCopy(
        copy,
        reply,
        () => getEntry(platform, principal, spec, id),
        (rows) => getFromCopy(rows, principal, spec, id),
      );
    },
  );

  app.patch(
    one,
    {
      schema: {
        tags,
        operationId: `updateKnowledge${noun}`,
        summary: `Change one of the organization's ${spec.plural} (admins); \`active\` deletes or restores it`,
        security: BEARER,
        params: EntryParams,
        body: kind.patch,
        response: {
          200: described(kind.view, `The ${spec.kind} as changed.`),
          ...errorResponses(...WRITE_ERRORS, "validation_failed", notFound, "knowledge_entry_read_only"),
        },
      },
    },
    async (request) =>
      updateEntry(
        platform,
        requirePrincipal(request),
        spec,
        idOf(request.params),
        request.body as Record<string, unknown>,
      ),
  );

  app.delete(
    one,
    {
      schema: {
        tags,
        operationId: `deleteKnowledge${noun}`,
        summary: `Delete one of the organization's ${spec.plural} (admins; a soft delete, undone by a patch)`,
        security: BEARER,
        params: EntryParams,
        response: {
          204: Type.Null({ description: "Deleted." }),
          ...errorResponses(...WRITE_ERRORS, "validation_failed", notFound, "knowledge_entry_read_only"),
        },
      },
    },
    async (request, reply) => {
      await deleteEntry(platform, requirePrincipal(request), spec, idOf(request.params));
      return reply.status(204).send(null);
    },
  );
}

function registerTemplateUse(app: App, platform: Platform) {
  app.post(
    "/knowledge/templates/:knowledgeTemplateId/use",
    {
      schema: {
        tags,
        operationId: "useKnowledgeTemplate",
        summary: "Fill a template's variables and count the use",
        security: BEARER,
        params: Type.Object({ knowledgeTemplateId: Uuid }),
        body: TemplateUse,
        response: {
          200: described(RenderedTemplate, "The filled template and its use count."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "knowledge_entry_not_found"),
        },
      },
    },
    async (request) =>
      useTemplate(platform, requirePrincipal(request), request.params.knowledgeTemplateId, request.body),
  );
}
