import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { toAppError } from "../../http/error-handler.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { Label, listQuery, pageOf, StrictObject, StringEnum, Uuid } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { documentGenerationKey } from "./document-generations.ts";
import { listDocuments } from "./document-list.ts";
import { documentReadBody } from "./document-read-response.ts";
import { createDocument, deleteDocument, downloadUrl, restoreDocument, updateDocument } from "./documents.ts";
import { createTemplate, listTemplates } from "./prompt-templates.ts";
import {
  AcceptedSuggestion,
  Diff,
  Document,
  DocumentWithContent,
  DownloadLink,
  ListedDocument,
  NewVersion,
  PromptTemplate,
  RejectedSuggestion,
  Suggestion,
  Version,
  VersionKind,
  VersionWithContent,
} from "./schemas.ts";
import { awaitSearchIndexing } from "./search-indexer.ts";
import {
  acceptSuggestion,
  checkSuggestionRequest,
  rejectSuggestion,
  requestSuggestion,
  runSuggestion,
} from "./suggestions.ts";
import { addVersion, diffVersions, getVersion, listVersions, restoreVersion } from "./versions.ts";
import { newVersionView } from "./views.ts";

const Tag = Label(64);
const Tags = Type.Array(Tag, { maxItems: 50 });
// The byte limit (2 MiB) is checked after parsing; this bounds the characters.
const Content = Type.String({ maxLength: 2 * 1024 * 1024 });
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

const DocParams = Type.Object({ documentId: Uuid });
const VersionParams = Type.Object({ documentId: Uuid, number: VersionNumber });
const tags = ["writing"];

/** The writing module's HTTP API (seed 000). Anonymous sessions may use all of it but templates of their own. */
export function registerWritingRoutes(app: App, platform: Platform) {
  // Indexing scheduled after a save's commit finishes before the stores close.
  app.addHook("onClose", () => awaitSearchIndexing(platform));
  app.post(
    "/documents",
    {
      schema: {
        tags,
        operationId: "createDocument",
        summary: "Create a document with its first version",
        security: BEARER,
        body: StrictObject({
          title: Label(500),
          content: Content,
          description: Type.Optional(Type.String({ maxLength: 5000 })),
          tags: Type.Optional(Tags),
        }),
        response: {
          201: described(DocumentWithContent, "The new document, with its content."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "compute_busy"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createDocument(platform, requirePrincipal(request), request.body)),
  );

  app.get(
    "/documents",
    {
      schema: {
        tags,
        operationId: "listDocuments",
        summary: "The caller's documents: newest first, or best matches for q with highlighted snippets",
        security: BEARER,
        querystring: listQuery({
          q: Type.Optional(Label(500)),
          tags: Type.Optional(Type.String({ maxLength: 1000, description: "comma-separated; all must match" })),
          archived: Type.Optional(StringEnum(["true", "false", "all"])),
          deleted: Type.Optional(Type.Boolean({ description: "list the trash (deleted, restorable for 30 days)" })),
        }),
        response: {
          200: described(pageOf(ListedDocument), "A page of documents."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => {
      const q = request.query;
      return listDocuments(platform, requirePrincipal(request), {
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
        ...(q.q ? { q: q.q } : {}),
        ...(q.tags ? { tags: q.tags.split(",") } : {}),
        ...(q.archived ? { archived: q.archived } : {}),
        ...(q.deleted ? { deleted: q.deleted } : {}),
      });
    },
  );

  app.get(
    "/documents/:documentId",
    {
      schema: {
        tags,
        operationId: "getDocument",
        summary: "A document with its current content",
        security: BEARER,
        params: DocParams,
        response: {
          200: described(DocumentWithContent, "The document, with its current content."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found", "compute_busy"),
        },
      },
      // The admission round trip also reads the document's generation (document-generations.ts).
      config: {
        generationKey: (request) =>
          documentGenerationKey(platform, (request.params as { documentId?: string }).documentId ?? ""),
      },
    },
    async (request, reply) => {
      // Already JSON from the route's own serializer (document-read-response.ts): sent as it is.
      const json = await documentReadBody(
        platform,
        requirePrincipal(request),
        request.params.documentId,
        request.generation,
        (payload) =>
          // fast-json-stringify, the route's serializer, returns strings.
          reply.serialize(payload) as string,
      );
      // A string is sent as it is; the type provider knows only the object it stands for.
      return reply.type("application/json; charset=utf-8").send(json as never);
    },
  );

  app.patch(
    "/documents/:documentId",
    {
      schema: {
        tags,
        operationId: "updateDocument",
        summary: "Change title, description or tags; archive or unarchive",
        security: BEARER,
        params: DocParams,
        body: StrictObject({
          title: Type.Optional(Label(500)),
          description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
          tags: Type.Optional(Tags),
          isArchived: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: described(Document, "The document as it now is."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found"),
        },
      },
    },
    async (request) => updateDocument(platform, requirePrincipal(request), request.params.documentId, request.body),
  );

  app.delete(
    "/documents/:documentId",
    {
      schema: {
        tags,
        operationId: "deleteDocument",
        summary: "Move to the trash (restorable for 30 days)",
        security: BEARER,
        params: DocParams,
        response: {
          204: Type.Null({ description: "In the trash." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found"),
        },
      },
    },
    async (request, reply) => {
      await deleteDocument(platform, requirePrincipal(request), request.params.documentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/documents/:documentId/restore",
    {
      schema: {
        tags,
        operationId: "restoreDocument",
        summary: "Bring a deleted document back",
        security: BEARER,
        params: DocParams,
        response: {
          200: described(Document, "The document, out of the trash."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "document_not_found",
            "restore_window_passed",
          ),
        },
      },
    },
    async (request) => restoreDocument(platform, requirePrincipal(request), request.params.documentId),
  );

  app.get(
    "/documents/:documentId/download-url",
    {
      schema: {
        tags,
        operationId: "getDocumentDownloadUrl",
        summary: "A short-lived link to the current content",
        security: BEARER,
        params: DocParams,
        response: {
          200: DownloadLink,
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found", "compute_busy"),
        },
      },
    },
    async (request) => downloadUrl(platform, requirePrincipal(request), request.params.documentId),
  );

  app.post(
    "/documents/:documentId/versions",
    {
      schema: {
        tags,
        operationId: "createDocumentVersion",
        summary: "Save a version (major: explicit save; minor: autosave, kept 24 h)",
        security: BEARER,
        params: DocParams,
        body: StrictObject({
          content: Content,
          kind: Type.Optional(VersionKind),
          changeDescription: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: {
          201: described(NewVersion, "The new version."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found", "compute_busy"),
        },
      },
    },
    async (request, reply) => {
      const saved = await addVersion(platform, requirePrincipal(request), request.params.documentId, request.body);
      return reply.status(201).send(newVersionView(saved));
    },
  );

  app.get(
    "/documents/:documentId/versions",
    {
      schema: {
        tags,
        operationId: "listDocumentVersions",
        summary: "A document's versions, newest first",
        security: BEARER,
        params: DocParams,
        querystring: listQuery({ kind: Type.Optional(VersionKind) }),
        response: {
          200: described(pageOf(Version), "A page of versions."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found"),
        },
      },
    },
    async (request) =>
      listVersions(platform, requirePrincipal(request), request.params.documentId, {
        limit: request.query.limit,
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
        ...(request.query.kind ? { kind: request.query.kind } : {}),
      }),
  );

  app.get(
    "/documents/:documentId/versions/:number",
    {
      schema: {
        tags,
        operationId: "getDocumentVersion",
        summary: "One version of a document, with its content",
        security: BEARER,
        params: VersionParams,
        response: {
          200: VersionWithContent,
          ...errorResponses(
            ...READ_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "document_not_found",
            "version_not_found",
            "compute_busy",
          ),
        },
      },
    },
    async (request) =>
      getVersion(platform, requirePrincipal(request), request.params.documentId, request.params.number),
  );

  app.get(
    "/documents/:documentId/diff",
    {
      schema: {
        tags,
        operationId: "diffDocumentVersions",
        summary: "What changed from one version to another of this document",
        security: BEARER,
        params: DocParams,
        querystring: Type.Object({ from: VersionNumber, to: VersionNumber }, { additionalProperties: false }),
        response: {
          200: Diff,
          ...errorResponses(
            ...READ_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "document_not_found",
            "version_not_found",
            "compute_busy",
          ),
        },
      },
    },
    async (request) =>
      diffVersions(
        platform,
        requirePrincipal(request),
        request.params.documentId,
        request.query.from,
        request.query.to,
      ),
  );

  app.post(
    "/documents/:documentId/versions/:number/restore",
    {
      schema: {
        tags,
        operationId: "restoreDocumentVersion",
        summary: "Save an old version's content as the newest version",
        security: BEARER,
        params: VersionParams,
        response: {
          201: described(NewVersion, "The new version, holding the old one's content."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "document_not_found",
            "version_not_found",
            "compute_busy",
          ),
        },
      },
    },
    async (request, reply) => {
      const saved = await restoreVersion(
        platform,
        requirePrincipal(request),
        request.params.documentId,
        request.params.number,
      );
      return reply.status(201).send(newVersionView(saved));
    },
  );

  app.post(
    "/documents/:documentId/suggestions",
    {
      config: { rateLimit: "ai" },
      schema: {
        tags,
        operationId: "requestSuggestion",
        summary: "Ask the AI provider for an improvement of the document",
        description:
          "The answer is cached by content hash. With `stream: false` (the default) the answer is 201 with the " +
          "suggestion as JSON. With `stream: true` it is 200 `text/event-stream`: `chunk` events " +
          '(`data: {"text": ...}`) as the provider writes, then one `suggestion` event whose data is the ' +
          "suggestion (the 201 body), or one `error` event whose data is the error shape. Failures found before " +
          "the stream opens are plain error responses either way.",
        security: BEARER,
        params: DocParams,
        body: StrictObject({
          templateId: Type.Optional(Uuid),
          prompt: Type.Optional(Label(4000)),
          stream: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: {
            description: "With `stream: true`: the suggestion as server-sent events (chunk, then suggestion or error).",
            content: {
              "text/event-stream": {
                schema: Type.String({
                  description: "Events `chunk` ({ text }), then `suggestion` (the suggestion) or `error` ({ error }).",
                }),
              },
            },
          },
          201: described(Suggestion, "With `stream: false`: the suggestion, stored as a pending version."),
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "document_not_found",
            "prompt_template_not_found",
            "ai_provider_not_configured",
            "ai_provider_unavailable",
            "ai_provider_busy",
            "ai_empty_response",
            "compute_busy",
          ),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const { stream, ...input } = request.body;
      if (!stream) {
        return reply.status(201).send(await requestSuggestion(platform, principal, request.params.documentId, input));
      }
      // Checks that can fail with a plain HTTP error happen before the stream opens.
      const checked = await checkSuggestionRequest(platform, principal, request.params.documentId, input);
      reply.hijack();
      const raw = reply.raw;
      // Headers hooks set through the reply (CORS) are written only by reply.send; carry them over.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) raw.setHeader(name, value);
      }
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-request-id": request.id,
      });
      const send = (event: string, data: unknown) => raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      try {
        const suggestion = await runSuggestion(platform, principal, checked, input, (text) => send("chunk", { text }));
        send("suggestion", suggestion);
      } catch (error) {
        const appError = toAppError(error, platform.config.http.bodyLimitBytes);
        if (appError.statusCode >= 500) request.log.error({ err: error }, "streamed suggestion failed");
        send("error", { error: { code: appError.code, message: appError.message, details: appError.details } });
      }
      raw.end();
    },
  );

  app.post(
    "/suggestions/:suggestionId/accept",
    {
      schema: {
        tags,
        operationId: "acceptSuggestion",
        summary: "Apply a suggestion as a new version",
        security: BEARER,
        params: Type.Object({ suggestionId: Uuid }),
        response: {
          200: AcceptedSuggestion,
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "suggestion_not_found",
            "suggestion_already_decided",
            "document_not_found",
            "compute_busy",
          ),
        },
      },
    },
    async (request) => acceptSuggestion(platform, requirePrincipal(request), request.params.suggestionId),
  );

  app.post(
    "/suggestions/:suggestionId/reject",
    {
      schema: {
        tags,
        operationId: "rejectSuggestion",
        summary: "Turn a suggestion down",
        security: BEARER,
        params: Type.Object({ suggestionId: Uuid }),
        response: {
          200: RejectedSuggestion,
          ...errorResponses(
            ...WRITE_ROUTE,
            ...NEEDS_CALLER,
            "validation_failed",
            "suggestion_not_found",
            "suggestion_already_decided",
          ),
        },
      },
    },
    async (request) => rejectSuggestion(platform, requirePrincipal(request), request.params.suggestionId),
  );

  app.get(
    "/prompt-templates",
    {
      schema: {
        tags,
        operationId: "listPromptTemplates",
        summary: "System templates and the organization's own",
        security: BEARER,
        querystring: listQuery({ category: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: {
          200: described(pageOf(PromptTemplate), "A page of templates, oldest first."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) =>
      listTemplates(platform, requirePrincipal(request), {
        limit: request.query.limit,
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
        ...(request.query.category ? { category: request.query.category } : {}),
      }),
  );

  app.post(
    "/prompt-templates",
    {
      schema: {
        tags,
        operationId: "createPromptTemplate",
        summary: "Add a template for the organization",
        security: BEARER,
        body: StrictObject({
          name: Label(200),
          promptText: Label(10_000),
          category: Label(64),
          description: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: {
          201: described(PromptTemplate, "The new template."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createTemplate(platform, requireAccount(request), request.body)),
  );
}
