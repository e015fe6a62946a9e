import cors from "@fastify/cors";
import type { App } from "./app.ts";

/** Methods the API's routes answer (no route uses PUT). */
const METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE"];
/** Request headers a browser app sends: the bearer token, JSON bodies, its own trace id. */
const ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Request-Id"];
/** Response headers outside the CORS safelist that a browser app needs to read. */
const EXPOSED_HEADERS = ["X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"];
/** How long a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Cross-origin access for the listed browser origins only (CORS_ORIGINS). With
 * none listed the plugin is not registered: no response grants anything, and a
 * preflight is an unknown route. A request from an unlisted origin is treated
 * as if CORS were off (no grant; its preflight a 404), not answered with a
 * grant for some other origin. No credentials mode: Strata authenticates by
 * bearer token, never by cookie.
 */
export async function registerCors(app: App, origins: readonly string[]) {
  if (origins.length === 0) return;
  const listed = new Set(origins);
  await app.register(cors, {
    origin: (origin, callback) => callback(null, origin !== undefined && listed.has(origin)),
    methods: METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    credentials: false,
  });
}
