import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { errors } from "../platform/errors/catalog.ts";
import type { StrataModule } from "../runtime/module.ts";
import type { Platform } from "../runtime/platform.ts";
import type { App } from "./app.ts";
import { errorHandler } from "./error-handler.ts";
import { openApiOptions } from "./openapi.ts";
import { registerAuthentication } from "./principal.ts";
import { registerRateLimits } from "./rate-limit.ts";
import { requestId } from "./request-id.ts";
import { registerApiKeyRoutes } from "./routes/api-keys.ts";
import { registerAuthRoutes } from "./routes/auth.ts";
import { registerBlobDownloadRoutes } from "./routes/blob-downloads.ts";
import { registerHealthRoutes } from "./routes/health.ts";
import { registerMeRoutes } from "./routes/me.ts";
import { registerOrganizationRoutes } from "./routes/organizations.ts";
import { lazySerializerFactory } from "./serialization.ts";
import { validatorCompiler } from "./validation.ts";

/**
 * Builds the HTTP API over an opened platform: plugins, the error catalog's
 * handler, request metrics, OpenAPI, the platform routes and every module's
 * routes under /v1. Does not listen; the caller decides where.
 */
export async function buildServer(platform: Platform, modules: readonly StrataModule[]): Promise<App> {
  const { config, metrics } = platform;
  // Registration and login are served here, so this is where the modules'
  // ownership-transfer hooks join the identity service.
  for (const module of modules) {
    const hook = module.ownershipTransfer;
    if (hook) platform.identity.transferHooks.register(module.name, (context) => hook.call(module, context, platform));
  }
  // A mutable copy (the config is frozen). The cast only picks Fastify's
  // HTTP/1 overload, which a union-typed option confuses.
  const trustProxy = (
    Array.isArray(config.http.trustProxy) ? [...config.http.trustProxy] : config.http.trustProxy
  ) as boolean;
  const app: App = Fastify({
    loggerInstance: platform.logger as FastifyBaseLogger,
    genReqId: requestId,
    bodyLimit: config.http.bodyLimitBytes,
    return503OnClosing: true,
    trustProxy,
    schemaController: { compilersFactory: { buildSerializer: lazySerializerFactory } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setValidatorCompiler(validatorCompiler());
  app.setErrorHandler(errorHandler(config.http.bodyLimitBytes));
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
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  registerHealthRoutes(app, platform);
  await app.register(
    async (v1) => {
      registerAuthentication(v1, platform);
      registerRateLimits(v1, platform);
      if (platform.blobs.driver === "fs") registerBlobDownloadRoutes(v1, platform);
      registerAuthRoutes(v1, platform);
      registerMeRoutes(v1, platform);
      registerOrganizationRoutes(v1, platform);
      registerApiKeyRoutes(v1, platform);
      for (const module of modules) await module.routes?.(v1, platform);
    },
    { prefix: "/v1" },
  );
  return app;
}
