import { Type } from "typebox";
import { verifyDownload } from "../../platform/blobs/url-signing.ts";
import { errors } from "../../platform/errors/catalog.ts";
import type { Platform } from "../../runtime/platform.ts";
import type { App } from "../app.ts";

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
      helmet: { crossOriginResourcePolicy: { policy: "cross-origin" } },
      schema: {
        tags: ["blobs"],
        summary: "Download a blob through a signed link",
        querystring: Type.Object(
          {
            key: Type.String({ minLength: 1, maxLength: 1024 }),
            expires: Type.Integer({ minimum: 0 }),
            name: Type.Optional(Type.String({ maxLength: 255 })),
            signature: Type.String({ minLength: 1, maxLength: 128 }),
          },
          { additionalProperties: false },
        ),
        response: { 403: Type.Ref("ErrorResponse"), 404: Type.Ref("ErrorResponse"), 410: Type.Ref("ErrorResponse") },
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
