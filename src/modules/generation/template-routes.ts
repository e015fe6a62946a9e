import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { Label, listQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { accountOrNotFound } from "./organization-scope.ts";
import { Template, TemplateInput, TemplateKey, TemplateVersionInput } from "./schemas.ts";
import { setTemplateActive } from "./template-activation.ts";
import { getLatestTemplate, getTemplateById, getTemplateVersion, listTemplates } from "./template-reads.ts";
import { createTemplate, createTemplateVersion } from "./templates.ts";

const tags = ["generation"];
const KeyParams = Type.Object({ templateKey: TemplateKey });
const VersionParams = Type.Object({
  templateKey: TemplateKey,
  version: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }),
});

/** Templates: versioned by key (a change is a new version, never an edit), deactivated and reactivated whole. */
export function registerTemplateRoutes(app: App, platform: Platform) {
  const caller = (request: Parameters<typeof requirePrincipal>[0]) =>
    accountOrNotFound(requirePrincipal(request), errors.templateNotFound);

  app.post(
    "/generation/templates",
    {
      schema: {
        tags,
        operationId: "createGenerationTemplate",
        summary: "Create a template (its version 1) under a key new to the organization",
        security: BEARER,
        body: TemplateInput,
        response: {
          201: described(Template, "The template's first version."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "validation_failed", "template_key_taken"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createTemplate(platform, requireAccount(request), request.body)),
  );

  app.get(
    "/generation/templates",
    {
      schema: {
        tags,
        operationId: "listGenerationTemplates",
        summary: "The organization's templates, the latest version of each, by key",
        security: BEARER,
        querystring: listQuery({
          tag: Type.Optional(Label(50, { description: "only templates whose latest version has this tag" })),
          active: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: described(pageOf(Template), "A page of templates, by key."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listTemplates(platform, requireAccount(request), {
        limit: q.limit,
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(q.tag !== undefined ? { tag: q.tag } : {}),
        ...(q.active !== undefined ? { active: q.active } : {}),
      });
    },
  );

  app.get(
    "/generation/templates/:templateKey",
    {
      schema: {
        tags,
        operationId: "getGenerationTemplate",
        summary: "A template's latest version",
        security: BEARER,
        params: KeyParams,
        response: {
          200: described(Template, "The latest version."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "template_not_found"),
        },
      },
    },
    async (request) => getLatestTemplate(platform, caller(request), request.params.templateKey),
  );

  app.post(
    "/generation/templates/:templateKey/versions",
    {
      schema: {
        tags,
        operationId: "createGenerationTemplateVersion",
        summary: "Add a version to a template: the whole template again, as the next version",
        security: BEARER,
        params: KeyParams,
        body: TemplateVersionInput,
        response: {
          201: described(Template, "The new version (active when the template is)."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "template_not_found"),
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await createTemplateVersion(platform, caller(request), request.params.templateKey, request.body)),
  );

  app.get(
    "/generation/templates/:templateKey/versions/:version",
    {
      schema: {
        tags,
        operationId: "getGenerationTemplateVersion",
        summary: "One version of a template",
        security: BEARER,
        params: VersionParams,
        response: {
          200: described(Template, "The version."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "template_not_found"),
        },
      },
    },
    async (request) =>
      getTemplateVersion(platform, caller(request), request.params.templateKey, request.params.version),
  );

  const activation = (action: "deactivate" | "reactivate", operationId: string, summary: string) =>
    app.post(
      `/generation/templates/:templateKey/${action}`,
      {
        schema: {
          tags,
          operationId,
          summary,
          security: BEARER,
          params: KeyParams,
          response: {
            200: described(Template, "The template's latest version, as it now is."),
            ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "template_not_found"),
          },
        },
      },
      async (request) =>
        setTemplateActive(platform, caller(request), request.params.templateKey, action === "reactivate"),
    );
  activation(
    "deactivate",
    "deactivateGenerationTemplate",
    "Deactivate a template (every version of its key); its versions stay readable",
  );
  activation("reactivate", "reactivateGenerationTemplate", "Reactivate a template (every version of its key)");

  app.get(
    "/generation/template-versions/:templateId",
    {
      schema: {
        tags,
        operationId: "getGenerationTemplateById",
        summary: "A template version by its id (served from the template cache)",
        security: BEARER,
        params: Type.Object({ templateId: Uuid }),
        response: {
          200: described(Template, "The version."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "template_not_found"),
        },
      },
    },
    async (request) => getTemplateById(platform, caller(request), request.params.templateId),
  );
}
