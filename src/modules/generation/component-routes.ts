import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { listQuery, pageOf, StringEnum, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { createComponent, getComponent, listComponents, updateComponent } from "./components.ts";
import { accountOrNotFound } from "./organization-scope.ts";
import { Component, ComponentInput, ComponentUpdate } from "./schemas.ts";
import { COMPONENT_TYPES } from "./tables.ts";

const tags = ["generation"];
const ComponentParams = Type.Object({ componentId: Uuid });

/** Components: a template, ai_generator or transformer step with its config, scoped by organization. */
export function registerComponentRoutes(app: App, platform: Platform) {
  const caller = (request: Parameters<typeof requirePrincipal>[0], componentId: string) =>
    accountOrNotFound(requirePrincipal(request), () => errors.componentNotFound(componentId));

  app.post(
    "/generation/components",
    {
      schema: {
        tags,
        operationId: "createGenerationComponent",
        summary: "Create a component; an ai_generator's model must be one the organization allows",
        security: BEARER,
        body: ComponentInput,
        response: {
          201: described(Component, "The new component."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "validation_failed", "model_not_allowed"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createComponent(platform, requireAccount(request), request.body)),
  );

  app.get(
    "/generation/components",
    {
      schema: {
        tags,
        operationId: "listGenerationComponents",
        summary: "The organization's components, newest first",
        security: BEARER,
        querystring: listQuery({
          type: Type.Optional(StringEnum(COMPONENT_TYPES)),
          active: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: described(pageOf(Component), "A page of components, newest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listComponents(platform, requireAccount(request), {
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.type !== undefined ? { type: q.type } : {}),
        ...(q.active !== undefined ? { active: q.active } : {}),
      });
    },
  );

  app.get(
    "/generation/components/:componentId",
    {
      schema: {
        tags,
        operationId: "getGenerationComponent",
        summary: "A component",
        security: BEARER,
        params: ComponentParams,
        response: {
          200: described(Component, "The component."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "component_not_found"),
        },
      },
    },
    async (request) => getComponent(platform, caller(request, request.params.componentId), request.params.componentId),
  );

  app.patch(
    "/generation/components/:componentId",
    {
      schema: {
        tags,
        operationId: "updateGenerationComponent",
        summary: "Change a component's name, description, config (of its own type) or activity",
        security: BEARER,
        params: ComponentParams,
        body: ComponentUpdate,
        response: {
          200: described(Component, "The component as it now is."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "component_not_found",
            "model_not_allowed",
          ),
        },
      },
    },
    async (request) =>
      updateComponent(platform, caller(request, request.params.componentId), request.params.componentId, request.body),
  );
}
