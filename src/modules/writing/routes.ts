import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { toAppError } from "../../http/error-handler.ts";
import { requireAccount, requirePrincipal } from "../../http/principal.ts";
import { Label, listQuery, pageOf, StrictObject } from "../../http/schemas.ts";
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
const Kind = Type.Union([Type.Literal("major"), Type.Literal("minor"), Type.Literal("ai_suggestion")]);
const VersionNumber = Type.Integer({ minimum: 1, maximum: 2_147_483_647 });

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
  owner: Type.Object({ kind: Type.String() }),
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
  kind: Type.String(),
  changeDescription: Type.Union([Type.String(), Type.Null()]),
  author: Type.Object({ userId: Type.Union([Type.String(), Type.Null()]), anonymous: Type.Boolean() }),
  previousVersionId: Type.Union([Type.String(), Type.Null()]),
  contentSize: Type.Integer(),
  storage: Type.String({
    description: "keyframe or delta: how the version's content is stored (snapshot or delta in the earlier form)",
  }),
  storedSize: Type.Integer({
    description: "bytes this version added to storage; 0 when its content was already stored",
  }),
  suggestionState: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String(),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
});

const Suggestion = Type.Object({
  id: Id,
  documentId: Id,
  versionNumber: Type.Integer(),
  content: Type.String(),
  cached: Type.Boolean(),
  model: Type.String(),
  templateId: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
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
        summary: "Create a document with its first version",
        body: StrictObject({
          title: Label(500),
          content: Content,
          description: Type.Optional(Type.String({ maxLength: 5000 })),
          tags: Type.Optional(Tags),
        }),
        response: { 201: DocumentWithContent },
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
        summary: "The caller's documents: newest first, or best matches for q with highlighted snippets",
        querystring: listQuery({
          q: Type.Optional(Label(500)),
          tags: Type.Optional(Type.String({ maxLength: 1000, description: "comma-separated; all must match" })),
          archived: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false"), Type.Literal("all")])),
          deleted: Type.Optional(Type.Boolean({ description: "list the trash (deleted, restorable for 30 days)" })),
        }),
        response: { 200: pageOf(ListedDocument) },
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
      schema: { tags, params: DocParams, response: { 200: DocumentWithContent, 404: Type.Ref("ErrorResponse") } },
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
      return reply.type("application/json; charset=utf-8").send(json);
    },
  );

  app.patch(
    "/documents/:documentId",
    {
      schema: {
        tags,
        summary: "Change title, description or tags; archive or unarchive",
        params: DocParams,
        body: StrictObject({
          title: Type.Optional(Label(500)),
          description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
          tags: Type.Optional(Tags),
          isArchived: Type.Optional(Type.Boolean()),
        }),
        response: { 200: Document },
      },
    },
    async (request) => updateDocument(platform, requirePrincipal(request), request.params.documentId, request.body),
  );

  app.delete(
    "/documents/:documentId",
    {
      schema: {
        tags,
        summary: "Move to the trash (restorable for 30 days)",
        params: DocParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteDocument(platform, requirePrincipal(request), request.params.documentId);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/documents/:documentId/restore",
    { schema: { tags, summary: "Bring a deleted document back", params: DocParams, response: { 200: Document } } },
    async (request) => restoreDocument(platform, requirePrincipal(request), request.params.documentId),
  );

  app.get(
    "/documents/:documentId/download-url",
    {
      schema: {
        tags,
        summary: "A short-lived link to the current content",
        params: DocParams,
        response: { 200: Type.Object({ url: Type.String(), expiresAt: Type.String() }) },
      },
    },
    async (request) => downloadUrl(platform, requirePrincipal(request), request.params.documentId),
  );

  app.post(
    "/documents/:documentId/versions",
    {
      schema: {
        tags,
        summary: "Save a version (major: explicit save; minor: autosave, kept 24 h)",
        params: DocParams,
        body: StrictObject({
          content: Content,
          kind: Type.Optional(Kind),
          changeDescription: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: {
          201: Type.Object({ id: Id, number: Type.Integer(), kind: Type.String(), createdAt: Type.String() }),
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
        params: DocParams,
        querystring: listQuery({ kind: Type.Optional(Kind) }),
        response: { 200: pageOf(Version) },
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
        params: VersionParams,
        response: { 200: Type.Intersect([Version, Type.Object({ content: Type.String() })]) },
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
        summary: "What changed from one version to another of this document",
        params: DocParams,
        querystring: Type.Object({ from: VersionNumber, to: VersionNumber }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            from: Type.Integer(),
            to: Type.Integer(),
            changes: Type.Array(Type.Object({ op: Type.String(), text: Type.String() })),
            stats: Type.Object({
              insertedChars: Type.Integer(),
              deletedChars: Type.Integer(),
              unchangedChars: Type.Integer(),
            }),
          }),
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
        summary: "Save an old version's content as the newest version",
        params: VersionParams,
        response: {
          201: Type.Object({ id: Id, number: Type.Integer(), kind: Type.String(), createdAt: Type.String() }),
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
        summary:
          "Ask the AI provider for an improvement (cached by content hash); stream: true answers with server-sent events",
        params: DocParams,
        body: StrictObject({
          templateId: Type.Optional(Id),
          prompt: Type.Optional(Label(4000)),
          stream: Type.Optional(Type.Boolean()),
        }),
        response: { 201: Suggestion },
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
        summary: "Apply a suggestion as a new version",
        params: Type.Object({ suggestionId: Id }),
        response: {
          200: Type.Object({
            suggestionId: Id,
            status: Type.String(),
            version: Type.Object({ id: Id, number: Type.Integer() }),
          }),
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
        params: Type.Object({ suggestionId: Id }),
        response: { 200: Type.Object({ suggestionId: Id, status: Type.String() }) },
      },
    },
    async (request) => rejectSuggestion(platform, requirePrincipal(request), request.params.suggestionId),
  );

  app.get(
    "/prompt-templates",
    {
      schema: {
        tags,
        summary: "System templates and the organization's own",
        querystring: listQuery({ category: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: pageOf(Template) },
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
        summary: "Add a template for the organization",
        body: StrictObject({
          name: Label(200),
          promptText: Label(10_000),
          category: Label(64),
          description: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: { 201: Template },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createTemplate(platform, requireAccount(request), request.body)),
  );
}

function savedView(saved: SavedVersion) {
  return { id: saved.id, number: saved.number, kind: saved.kind, createdAt: saved.createdAt.toISOString() };
}
