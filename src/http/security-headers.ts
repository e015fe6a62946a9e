import type { IncomingMessage, ServerResponse } from "node:http";
import fastifyHelmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import helmet, { type HelmetOptions } from "helmet";
import type { App } from "./app.ts";

/** Directives of a Content-Security-Policy, by name, each with its sources. */
type Policy = Record<string, string[]>;

/**
 * The policy of every API response: JSON, errors, metrics and the signed blob
 * downloads, which serve what users uploaded from this origin. A browser that
 * renders one of them as a page (an uploaded HTML or SVG file opened by its
 * link) may load and run nothing, and no page may frame it.
 */
const API_POLICY: Policy = {
  "default-src": ["'none'"],
  "base-uri": ["'none'"],
  "form-action": ["'none'"],
  "frame-ancestors": ["'none'"],
};

/**
 * The one inline style of the reference: the <style> element of the Swagger
 * logo that Swagger UI's standalone preset draws before the page swaps in its
 * own logo, allowed by its hash. security-headers.test.ts checks that these
 * cover every such element in the installed bundles, so an upgrade that
 * changes one fails there rather than in a browser's console.
 */
const SWAGGER_UI_STYLE_HASHES = ["'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"];

/**
 * The policy of the reference under /docs. The page @fastify/swagger-ui
 * serves has no inline script: it links its stylesheets and scripts
 * from /docs/static, fetches the OpenAPI document from /docs/json, draws its
 * logo and icons from data: URLs, and "Try it out" calls this origin. Style
 * attributes are set by React through the DOM, which style-src does not govern.
 */
function docsPolicy(https: boolean): Policy {
  return {
    "default-src": ["'self'"],
    "base-uri": ["'self'"],
    "connect-src": ["'self'"],
    "font-src": ["'self'", "data:"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "script-src": ["'self'"],
    "script-src-attr": ["'none'"],
    "style-src": ["'self'", ...SWAGGER_UI_STYLE_HASHES],
    // Over plain HTTP (a local run) it would send the page's own requests to https:// and break it.
    ...(https ? { "upgrade-insecure-requests": [] } : {}),
  };
}

function serializePolicy(policy: Policy): string {
  return Object.entries(policy)
    .map(([name, sources]) => [name, ...sources].join(" "))
    .join("; ");
}

/**
 * Sets the security headers on every response, errors and 404s included:
 * helmet writes them onto the raw response in the first onRequest hook, so they
 * survive the error handler and streams that write their own head. HSTS is
 * sent only when the public URL is https (browsers ignore it over HTTP, and a
 * local run on http://localhost must not pin the host to HTTPS).
 * Returns the /docs policy for @fastify/swagger-ui to send in place of the API's.
 */
export async function registerSecurityHeaders(
  app: App,
  publicUrl: string,
): Promise<{ docsPolicy: string; setHeaders: (request: IncomingMessage, response: ServerResponse) => void }> {
  const https = new URL(publicUrl).protocol === "https:";
  const options: HelmetOptions = {
    contentSecurityPolicy: { useDefaults: false, directives: API_POLICY },
    // The header older browsers read instead of frame-ancestors.
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    // Not includeSubDomains: hosts below the public one are not Strata's to pin.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  };
  // The plugin types helmet's options from helmet's CommonJS declarations and
  // this import from its ES module ones: the same shape, two unrelated types.
  await app.register(fastifyHelmet, options as unknown as FastifyHelmetOptions);
  // For answers the router gives before any hook runs (a malformed URL): the same headers, set directly.
  const direct = helmet(options);
  return {
    docsPolicy: serializePolicy(docsPolicy(https)),
    setHeaders: (request, response) => direct(request, response, () => {}),
  };
}
