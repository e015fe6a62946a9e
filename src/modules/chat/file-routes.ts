import multipart from "@fastify/multipart";
import { Type } from "typebox";
import type { App } from "../../http/app.ts";
import { errorResponses, NEEDS_CALLER, READ_ROUTE, WRITE_ROUTE } from "../../http/error-responses.ts";
import { BEARER, described } from "../../http/openapi.ts";
import { requirePrincipal } from "../../http/principal.ts";
import { errors } from "../../platform/errors/catalog.ts";
import { Label, ListQuery, pageOf, Uuid } from "../../platform/schemas.ts";
import { SearchResults } from "../../platform/search/schemas.ts";
import type { Platform } from "../../runtime/platform.ts";
import { deleteFile, fileView, getFile, listFiles, uploadFile } from "./files.ts";
import { ChatFile, UploadedFile } from "./schemas.ts";

const tags = ["files"];
const FileParams = Type.Object({ fileId: Uuid });

/** Seed 003's files, under /v1/files: upload, list, status, delete, and search over their chunks. */
export function registerFileRoutes(app: App, platform: Platform) {
  // Multipart parsing only here: every other route keeps refusing multipart bodies (415).
  app.register(async (scope) => {
    await scope.register(multipart, {
      // One byte over the limit, so uploadFile sees the excess and answers 413 itself.
      limits: { fileSize: platform.config.chat.fileMaxBytes + 1, files: 1, fields: 0, parts: 1 },
      throwFileSizeLimit: false,
    });
    scope.post(
      "/files",
      {
        schema: {
          tags,
          operationId: "uploadFile",
          summary: "Upload a file (multipart/form-data, one part named `file`); its text is read and indexed after",
          description:
            "The content streams to the blob store. Its type is decided from its bytes: text, Markdown, HTML or PDF; " +
            "anything else, or content that contradicts the part's declared type, is 415 file_type_not_accepted. A " +
            "file over FILE_MAX_BYTES is 413. The same bytes uploaded again are the file the caller already has " +
            "(`duplicate`: true). Processing (extraction, chunking, embedding) follows as a job: see `status`.",
          security: BEARER,
          consumes: ["multipart/form-data"],
          response: {
            201: described(UploadedFile, "The stored file, `pending` until processed."),
            200: described(UploadedFile, "The caller already had these bytes: that file (`duplicate`)."),
            ...errorResponses(
              ...WRITE_ROUTE,
              ...NEEDS_CALLER,
              "validation_failed",
              "unsupported_media_type",
              "payload_too_large",
              "file_type_not_accepted",
            ),
          },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        if (!request.isMultipart()) throw errors.unsupportedMediaType(request.headers["content-type"]);
        const part = await request.file();
        if (part?.fieldname !== "file") {
          throw errors.validationFailed([
            { field: "file", code: "required", message: "send the file as a multipart part named file" },
          ]);
        }
        const uploaded = await uploadFile(platform, principal, {
          filename: part.filename,
          declaredType: part.mimetype || null,
          stream: part.file,
        });
        return reply.status(uploaded.duplicate ? 200 : 201).send(uploaded);
      },
    );
  });

  app.get(
    "/files",
    {
      schema: {
        tags,
        operationId: "listFiles",
        summary: "The caller's files, newest first",
        security: BEARER,
        querystring: ListQuery,
        response: {
          200: described(pageOf(ChatFile), "A page of files."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => listFiles(platform, requirePrincipal(request), request.query),
  );

  app.get(
    "/files/search",
    {
      schema: {
        tags,
        operationId: "searchFiles",
        summary: "Search the caller's files' text by words and meaning (hybrid search over their chunks)",
        security: BEARER,
        querystring: Type.Object(
          {
            q: Label(500, { description: 'What to look for: words, a "quoted phrase", -excluded words.' }),
            limit: Type.Integer({ minimum: 1, maximum: 50, default: 20 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: described(SearchResults, "The best chunks, each linking to its file."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed"),
        },
      },
    },
    async (request) => {
      const { q, limit } = request.query;
      const result = await platform.search.search(requirePrincipal(request), q, { kinds: ["file_chunk"], limit });
      return { items: result.items, nextCursor: null, vector: result.vector };
    },
  );

  app.get(
    "/files/:fileId",
    {
      schema: {
        tags,
        operationId: "getFile",
        summary: "One of the caller's files, with its processing status",
        security: BEARER,
        params: FileParams,
        response: {
          200: described(ChatFile, "The file."),
          ...errorResponses(...READ_ROUTE, ...NEEDS_CALLER, "validation_failed", "file_not_found"),
        },
      },
    },
    async (request) => fileView(await getFile(platform, requirePrincipal(request), request.params.fileId)),
  );

  app.delete(
    "/files/:fileId",
    {
      schema: {
        tags,
        operationId: "deleteFile",
        summary: "Delete a file with its chunks, their vectors and its blob",
        security: BEARER,
        params: FileParams,
        response: {
          204: Type.Null({ description: "Deleted." }),
          ...errorResponses(...WRITE_ROUTE, ...NEEDS_CALLER, "validation_failed", "file_not_found"),
        },
      },
    },
    async (request, reply) => {
      await deleteFile(platform, requirePrincipal(request), request.params.fileId);
      return reply.status(204).send(null);
    },
  );
}
