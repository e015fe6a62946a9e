import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { toAppError } from "../../http/error-handler.ts";
import { errorResponses, NEEDS_ACCOUNT, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { Label, listQuery, pageOf, StrictObject, StringEnum } from "../../platform/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { documentGenerationKey } from "./document-generations.ts";
import { listDocuments } from "./document-list.ts";
import { documentReadBody } from "./document-read-response.ts";
import { createDocument, deleteDocument, downloadUrl, restoreDocument, updateDocument } from "./documents.ts";
import { createTemplate, listTemplates } from "./prompt-templates.ts";
import { awaitSearchIndexing } from "./search-indexer.ts";
import {
  acceptSuggestion,
  checkSuggestionRequest,
  rejectSuggestion,
  requestSuggestion,
  runSuggestion,
} from "./suggestions.ts";
import type { SavedVersion } from "./version-store.ts";
import { addVersion, diffVersions, getVersion, listVersions, restoreVersion } from "./versions.ts";

const Id = Type.String({ format: "uuid" });
const Tag = Label(64);
const Tags = Type.Array(Tag, { maxItems: 50 });
// The byte limit (2 MiB) is checked after parsing; this bounds the characters.
const Content = Type.String({ maxLength: 2 * 1024 * 1024 });
const Kind = StringEnum(["major", "minor", "ai_suggestion"]);
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });
const Storage = StringEnum(["keyframe", "delta", "snapshot"], {
  description: "How the version's content is stored: keyframe or delta (snapshot or delta in the earlier form)",
});
const SuggestionState = StringEnum(["pending", "accepted", "rejected"]);

const Document = Type.Object({
  id: Id,
  title: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  tags: Type.Array(Type.String()),
  isArchived: Type.Boolean(),
  archivedAt: Type.Union([Type.String(), Type.Null()]),
  currentVersion: Type.Object({ id: Type.Union([Type.String(), Type.Null()]), number: Type.Integer() }),
  contentSize: Type.Integer(),
  history: Type.Object(
    {
      versions: Type.Integer({ description: "live versions in the history" }),
      storedBytes: Type.Integer({ description: "bytes the history occupies in storage, compressed" }),
    },
    { description: "what the document's version history occupies" },
  ),
  owner: Type.Object({ kind: StringEnum(["user", "anonymous"]) }),
  organizationId: Type.String(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  lastAccessedAt: Type.String(),
  deletedAt: Type.Union([Type.String(), Type.Null()]),
});
const DocumentWithContent = Type.Intersect([Document, Type.Object({ content: Type.String() })]);
const ListedDocument = Type.Intersect([
  Document,
  Type.Object({
    rank: Type.Optional(Type.Number()),
    highlights: Type.Optional(Type.Object({ title: Type.String(), snippet: Type.String() })),
  }),
]);

const Version = Type.Object({
  id: Id,
  number: Type.Integer(),
  kind: Kind,
  changeDescription: Type.Union([Type.String(), Type.Null()]),
  author: Type.Object({ userId: Type.Union([Type.String(), Type.Null()]), anonymous: Type.Boolean() }),
  previousVersionId: Type.Union([Type.String(), Type.Null()]),
  contentSize: Type.Integer(),
  storage: Storage,
  storedSize: Type.Integer({
    description: "bytes this version added to storage; 0 when its content was already stored",
  }),
  suggestionState: Type.Union([SuggestionState, Type.Null()], {
    description: "For an ai_suggestion version: whether it was accepted or rejected yet",
  }),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});

const SavedVersionSchema = Type.Object({ id: Id, number: Type.Integer(), kind: Kind, createdAt: Type.String() });

const Suggestion = Type.Object({
  id: Id,
  documentId: Id,
  versionNumber: Type.Integer(),
  content: Type.String(),
  cached: Type.Boolean(),
  model: Type.String(),
  templateId: Type.Union([Type.String(), Type.Null()]),
  status: SuggestionState,
  createdAt: Type.String(),
});

const Template = Type.Object({
  id: Id,
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  promptText: Type.String(),
  category: Type.String(),
  isSystem: Type.Boolean(),
  version: Type.Integer(),
  createdAt: Type.String(),
});

const DocParams = Type.Object({ documentId: Id });
const VersionParams = Type.Object({ documentId: Id, number: VersionNumber });
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
          200: Type.Object(
            { url: Type.String(), expiresAt: Type.String() },
            { description: "A signed link that needs no credentials until it expires." },
          ),
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
          kind: Type.Optional(Kind),
          changeDescription: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: {
          201: described(SavedVersionSchema, "The new version."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "document_not_found", "compute_busy"),
        },
      },
    },
    async (request, reply) => {
      const saved = await addVersion(platform, requirePrincipal(request), request.params.documentId, request.body);
      return reply.status(201).send(savedView(saved));
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
        querystring: listQuery({ kind: Type.Optional(Kind) }),
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
          200: Type.Intersect([Version, Type.Object({ content: Type.String() })], {
            description: "The version, with its content.",
          }),
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
          200: Type.Object(
            {
              from: Type.Integer(),
              to: Type.Integer(),
              changes: Type.Array(
                Type.Object({
                  op: StringEnum(["equal", "insert", "delete"]),
                  text: Type.String(),
                }),
              ),
              stats: Type.Object({
                insertedChars: Type.Integer(),
                deletedChars: Type.Integer(),
                unchangedChars: Type.Integer(),
              }),
            },
            {
              description:
                "The changes in order: concatenating equal and delete texts gives from, equal and insert texts gives to.",
            },
          ),
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
          201: described(SavedVersionSchema, "The new version, holding the old one's content."),
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
      return reply.status(201).send(savedView(saved));
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
          templateId: Type.Optional(Id),
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
        params: Type.Object({ suggestionId: Id }),
        response: {
          200: Type.Object(
            {
              suggestionId: Id,
              status: Type.Literal("accepted"),
              version: Type.Object({ id: Id, number: Type.Integer() }),
            },
            { description: "Accepted: the suggestion's content is the document's newest version." },
          ),
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
        params: Type.Object({ suggestionId: Id }),
        response: {
          200: Type.Object(
            { suggestionId: Id, status: Type.Literal("rejected") },
            { description: "Rejected: its version is pruned in time." },
          ),
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
          200: described(pageOf(Template), "A page of templates, oldest first."),
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
          201: described(Template, "The new template."),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_ACCOUNT, "validation_failed"),
        },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createTemplate(platform, requireAccount(request), request.body)),
  );
}

function savedView(saved: SavedVersion) {
  return { id: saved.id, number: saved.number, kind: saved.kind, createdAt: saved.createdAt.toISOString() };
}
