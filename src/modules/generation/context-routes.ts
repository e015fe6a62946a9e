import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { listQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { getBatch } from "./batch-summary.ts";
import { createBatch } from "./batches.ts";
import { cancelContext } from "./context-cancel.ts";
import { getContext, listUserContexts, USER_CONTEXTS_PAGE } from "./context-reads.ts";
import { createContext } from "./contexts.ts";
import { accountOrNotFound } from "./organization-scope.ts";
import { Batch, BatchInput, BatchWithSummary, Context, ContextInput } from "./schemas.ts";

const tags = ["generation"];

/** Contexts (what workers process) and batches of them. */
export function registerContextRoutes(app: App, platform: Platform) {
  app.post(
    "/generation/contexts",
    {
      schema: {
        tags,
        operationId: "createGenerationContext",
        summary: "Create a context for the workers, within the organization's daily limit",
        security: BEARER,
        body: ContextInput,
        response: {
          201: described(Context, "The new context, pending."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ACCOUNT,
            "validation_failed",
            "pipeline_not_found",
            "pipeline_inactive",
            "context_quota_exceeded",
          ),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createContext(platform, requireAccount(request), request.body)),
  );

  app.get(
    "/generation/contexts",
    {
      schema: {
        tags,
        operationId: "listGenerationContexts",
        summary: "The caller's recent contexts in the organization, newest first",
        security: BEARER,
        querystring: listQuery({}, { defaultLimit: USER_CONTEXTS_PAGE }),
        response: {
          200: described(pageOf(Context), "A page of the caller's contexts, newest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) =>
      listUserContexts(platform, requireAccount(request), {
        limit: request.query.limit,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      }),
  );

  app.get(
    "/generation/contexts/:contextId",
    {
      schema: {
        tags,
        operationId: "getGenerationContext",
        summary: "A context, with its processing and result",
        security: BEARER,
        params: Type.Object({ contextId: Uuid }),
        response: {
          200: described(Context, "The context."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "context_not_found"),
        },
      },
    },
    async (request) =>
      getContext(
        platform,
        accountOrNotFound(requirePrincipal(request), errors.contextNotFound),
        request.params.contextId,
      ),
  );

  app.post(
    "/generation/contexts/:contextId/cancel",
    {
      schema: {
        tags,
        operationId: "cancelGenerationContext",
        summary: "Cancel a pending or processing context",
        security: BEARER,
        params: Type.Object({ contextId: Uuid }),
        response: {
          200: described(Context, "The context, cancelled."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "context_not_found",
            "context_not_cancellable",
          ),
        },
      },
    },
    async (request) =>
      cancelContext(
        platform,
        accountOrNotFound(requirePrincipal(request), errors.contextNotFound),
        request.params.contextId,
      ),
  );

  app.post(
    "/generation/batches",
    {
      schema: {
        tags,
        operationId: "createGenerationBatch",
        summary: "Create a batch and its contexts at once, within the organization's limits",
        security: BEARER,
        body: BatchInput,
        response: {
          201: described(Batch, "The new batch, with its contexts' ids."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_ACCOUNT,
            "validation_failed",
            "batch_too_large",
            "pipeline_not_found",
            "pipeline_inactive",
            "context_quota_exceeded",
          ),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createBatch(platform, requireAccount(request), request.body)),
  );

  app.get(
    "/generation/batches/:batchId",
    {
      schema: {
        tags,
        operationId: "getGenerationBatch",
        summary: "A batch with its contexts counted by status and their usage added up",
        security: BEARER,
        params: Type.Object({ batchId: Uuid }),
        response: {
          200: described(BatchWithSummary, "The batch and its summary."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "batch_not_found"),
        },
      },
    },
    async (request) =>
      getBatch(platform, accountOrNotFound(requirePrincipal(request), errors.batchNotFound), request.params.batchId),
  );
}
