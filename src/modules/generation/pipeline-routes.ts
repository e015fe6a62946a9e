import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { listQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { accountOrNotFound } from "./organization-scope.ts";
import { getPipeline, listPipelines } from "./pipeline-reads.ts";
import { pipelineStats } from "./pipeline-stats.ts";
import { createPipeline, updatePipeline } from "./pipelines.ts";
import { Pipeline, PipelineInput, PipelineStats, PipelineUpdate } from "./schemas.ts";

const tags = ["generation"];
const PipelineParams = Type.Object({ pipelineId: Uuid });

/** Pipelines: ordered components, with their recent processing statistics. */
export function registerPipelineRoutes(app: App, platform: Platform) {
  const caller = (request: Parameters<typeof requirePrincipal>[0]) =>
    accountOrNotFound(requirePrincipal(request), errors.pipelineNotFound);

  app.post(
    "/generation/pipelines",
    {
      schema: {
        tags,
        operationId: "createGenerationPipeline",
        summary: "Create a pipeline of the organization's active components, in order",
        security: BEARER,
        body: PipelineInput,
        response: {
          201: described(Pipeline, "The new pipeline."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ACCOUNT,
            "validation_failed",
            "component_not_found",
            "component_inactive",
            "model_not_allowed",
          ),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createPipeline(platform, requireAccount(request), request.body)),
  );

  app.get(
    "/generation/pipelines",
    {
      schema: {
        tags,
        operationId: "listGenerationPipelines",
        summary: "The organization's pipelines, newest first",
        security: BEARER,
        querystring: listQuery({ active: Type.Optional(Type.Boolean()) }),
        response: {
          200: described(pageOf(Pipeline), "A page of pipelines, newest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listPipelines(platform, requireAccount(request), {
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.active !== undefined ? { active: q.active } : {}),
      });
    },
  );

  app.get(
    "/generation/pipelines/:pipelineId",
    {
      schema: {
        tags,
        operationId: "getGenerationPipeline",
        summary: "A pipeline with its components in order",
        security: BEARER,
        params: PipelineParams,
        response: {
          200: described(Pipeline, "The pipeline."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "pipeline_not_found"),
        },
      },
    },
    async (request) => getPipeline(platform, caller(request), request.params.pipelineId),
  );

  app.patch(
    "/generation/pipelines/:pipelineId",
    {
      schema: {
        tags,
        operationId: "updateGenerationPipeline",
        summary: "Change a pipeline's fields or activity, or replace its components",
        security: BEARER,
        params: PipelineParams,
        body: PipelineUpdate,
        response: {
          200: described(Pipeline, "The pipeline as it now is."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "pipeline_not_found",
            "component_not_found",
            "component_inactive",
            "model_not_allowed",
          ),
        },
      },
    },
    async (request) => updatePipeline(platform, caller(request), request.params.pipelineId, request.body),
  );

  app.get(
    "/generation/pipelines/:pipelineId/stats",
    {
      schema: {
        tags,
        operationId: "getGenerationPipelineStats",
        summary: "A pipeline's processing times over the last day, and its contexts by status",
        security: BEARER,
        params: PipelineParams,
        response: {
          200: described(PipelineStats, "The pipeline's statistics."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "pipeline_not_found"),
        },
      },
    },
    async (request) => pipelineStats(platform, caller(request), request.params.pipelineId),
  );
}
