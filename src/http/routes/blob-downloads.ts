import { Type } from "typebox";
import { verifyDownload } from "../../platform/blobs/url-signing.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";
import { errorResponses, READ_ROUTE } from "../error-responses.ts";
import { PUBLIC } from "../openapi.ts";

/**
 * Serves the filesystem store's signed download links (S3 links go to S3).
 * The link is the credential: no session is needed, and the signature covers
 * key, expiry and file name. Since the link is made to be handed on, pages of
 * other origins may embed what it serves (an <img>, a <video>): the security
 * headers' Cross-Origin-Resource-Policy is relaxed here alone. The API's
 * Content-Security-Policy stays, so an uploaded page opened by its link runs nothing.
 */
export function registerBlobDownloadRoutes(app: App, platform: Platform) {
  app.get(
    "/blob-downloads",
    {
      // Pages of other origins may show what a signed link serves (an image, say); everything else is same-origin.
      onRequest: (_request, reply, done) => {
        reply.raw.setHeader("cross-origin-resource-policy", "cross-origin");
        done();
      },
      schema: {
        tags: ["blobs"],
        operationId: "downloadBlob",
        summary: "Download a blob through a signed link",
        description:
          "The link is the credential: no Authorization is needed. Links come from routes such as GET /v1/documents/{documentId}/download-url.",
        security: PUBLIC,
        querystring: Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 1024 }),
            expires: Type.Integer({ minimum: 0 }),
            name: Type.Optional(Type.String({ maxLength: 255 })),
            signature: Type.String({ minLength: 1, maxLength: 128 }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: "The blob's content, with the content type it was stored with.",
            headers: {
              etag: Type.String({ description: "The content's SHA-256, quoted." }),
              "content-disposition": Type.String({
                description: "An attachment with the link's file name, when it names one.",
              }),
            },
            content: {
              "application/octet-stream": { schema: Type.Unsafe<unknown>({ type: "string", format: "binary" }) },
            },
          },
          ...errorResponses(
            ...READ_ROUTE,
            "validation_failed",
            "signature_invalid",
            "signature_expired",
            "blob_not_found",
          ),
        },
      },
    },
    async (request, reply) => {
      const { key, expires, name, signature } = request.query;
      const nowSeconds = Math.floor(platform.clock.now() / 1000);
      const verdict = verifyDownload(
        platform.signingSecret,
        { key, expires, downloadName: name ?? null },
        signature,
        nowSeconds,
      );
      if (verdict === "invalid") throw errors.signatureInvalid();
      if (verdict === "expired") throw errors.signatureExpired();
      const { info, body } = await platform.blobs.get(key);
      reply
        .header("content-type", info.contentType)
        .header("content-length", String(info.size))
        .header("etag", `"${info.sha256}"`)
        .header("cache-control", `private, max-age=${Math.max(0, expires - nowSeconds)}`)
        .header("x-content-type-options", "nosniff");
      if (name) reply.header("content-disposition", `attachment; filename="${name.replace(/["\\\r\n]/g, "_")}"`);
      return reply.send(body);
    },
  );
}
