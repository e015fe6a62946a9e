import type { IncomingMessage, ServerResponse } from "node:http";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { errors } from "../platform/errors/catalog.ts";
import type { StrataModule } from "../runtime/module.ts";
import { wireModules } from "../runtime/module-wiring.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";
import { registerCors } from "./cors.ts";
import { errorHandler } from "./error-handler.ts";
import { openApiOptions } from "./openapi.ts";
import { registerAuthentication } from "./principal.ts";
import { registerRateLimits } from "./rate-limit.ts";
import { requestId } from "./request-id.ts";
import { registerApiKeyRoutes } from "./routes/api-keys.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerBlobDownloadRoutes } from "./routes/blob-downloads.ts";
import { registerChangesRoute } from "./routes/changes.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerMeRoutes } from "./routes/me.ts";
import { registerOrganizationRoutes } from "./routes/organizations.ts";
import { registerSearchRoutes } from "./routes/search.ts";
import { registerSecurityHeaders } from "./security-headers.ts";
import { lazySerializerFactory } from "./serialization.ts";
import { registerTextInputChecks, registerUtf8JsonParser } from "./text-input.ts";
import { validatorCompiler } from "./validation.ts";

/** The largest frame a change-feed client may send (its messages are small: auth and subscribe). */
const MAX_CLIENT_FRAME_BYTES = 16 * 1024;

/**
 * Builds the HTTP API over an opened platform: plugins, the error catalog's
 * handler, request metrics, OpenAPI, the platform routes and every module's
 * routes under /v1. Does not listen; the caller decides where.
 */
export async function buildServer(platform: Platform, modules: readonly StrataModule[]): Promise<App> {
  // The routes need the modules' hooks (search sources); wiring twice registers nothing twice.
  wireModules(platform, modules);
  const { config, metrics } = platform;
  // A mutable copy (the config is frozen). The cast only picks Fastify's
  // HTTP/1 overload, which a union-typed option confuses.
  const trustProxy = (
    Array.isArray(config.http.trustProxy) ? [...config.http.trustProxy] : config.http.trustProxy
  ) as boolean;
  const handleError = errorHandler(config.http.bodyLimitBytes);
  let setSecurityHeaders: ((request: IncomingMessage, response: ServerResponse) => void) | null = null;
  const app: App = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    genReqId: requestId,
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
    trustProxy,
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
    // URLs the router refuses before any route (a bad percent-encoding, a
    // path parameter over 100 characters) get the one error shape too.
    frameworkErrors: (error, request, reply) => {
      setSecurityHeaders?.(request.raw, reply.raw);
      reply.header("x-request-id", request.id);
      return handleError(error, request, reply);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First, so that their onRequest hooks run before any other hook can fail a request.
  const security = registerSecurityHeaders(app, config.http.publicUrl);
  const { docsPolicy } = security;
  setSecurityHeaders = security.setHeaders;
  await registerCors(app, config.http.corsOrigins);
  app.setValidatorCompiler(validatorCompiler());
  registerUtf8JsonParser(app);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request) => {
    throw errors.routeNotFound(request.method, request.url.split("?")[0] ?? request.url);
  });
  // Background steps on the embedded database wait for a gap between requests (foreground.ts).
  const foreground = platform.database.foreground;
  if (foreground.yields) {
    app.server.on("request", (_request, response) => response.once("close", foreground.enter()));
  }
  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  app.addHook("onResponse", async (request, reply) => {
    const labels = {
      method: request.method,
      // The route template, never the raw URL, so ids do not explode the label set.
      route: request.routeOptions.url ?? "unmatched",
      status_code: String(reply.statusCode),
    };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(swagger, openApiOptions(config));
  // The reference's page and its static files get the page policy instead of the API's.
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: docsPolicy });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  // WebSocket upgrades (/v1/changes). A client frame over 16 KiB closes its connection with 1009.
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_FRAME_BYTES } });

  registerHealthRoutes(app, platform);
  await app.register(
    async (v1) => {
      registerTextInputChecks(v1);
      registerAuthentication(v1, platform);
      registerRateLimits(v1, platform);
      if (platform.blobs.driver === "fs") registerBlobDownloadRoutes(v1, platform);
      registerAuthRoutes(v1, platform);
      registerMeRoutes(v1, platform);
      registerOrganizationRoutes(v1, platform);
      registerApiKeyRoutes(v1, platform);
      registerSearchRoutes(v1, platform);
      await registerChangesRoute(v1, platform);
      for (const module of modules) await module.routes?.(v1, platform);
    },
    { prefix: "/v1" },
  );
  return app;
}
