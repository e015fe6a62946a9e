import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, READ_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount } from "../../http/principal.ts";
import { ListQuery, pageOf } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { Worker } from "./schemas.ts";
import { listWorkers } from "./worker-heartbeats.ts";

/** The deployment's live workers (see worker-heartbeats.ts for who may see them, and why). */
export function registerWorkerRoutes(app: App, platform: Platform) {
  app.get(
    "/generation/workers",
    {
      schema: {
        tags: ["generation"],
        operationId: "listGenerationWorkers",
        summary: "The live generation workers, from their heartbeats (the deployment's, not a tenant's)",
        security: BEARER,
        querystring: ListQuery,
        response: {
          200: described(pageOf(Worker), "A page of workers, by id."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) => {
      requireAccount(request);
      return listWorkers(platform, {
        limit: request.query.limit,
        ...(request.query.cursor !== undefined ? { cursor: request.query.cursor } : {}),
      });
    },
  );
}
