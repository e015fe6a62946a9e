import type { IncomingMessage, ServerResponse } from "node:http";
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
 * The headers helmet sets for these options, computed once: helmet's
 * middleware run against a recording response. @fastify/helmet runs the
 * middleware on every request, rebuilding it each time; measured on the
 * request-path bench that cost a third of /health's throughput.
 */
function helmetHeaders(options: HelmetOptions): [string, string][] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers.set(name.toLowerCase(), String(value));
    },
    removeHeader: (name: string) => {
      headers.delete(name.toLowerCase());
    },
  };
  let called = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {
    called = true;
  });
  if (!called) throw new Error("helmet did not set its headers synchronously");
  return [...headers];
}

/**
 * Sets the security headers on every response, errors and 404s included:
 * an onRequest hook, the first registered, writes them onto the raw
 * response, so they survive the error handler and streams that write their
 * own head. HSTS is sent only when the public URL is https (browsers ignore
 * it over HTTP, and a local run on http://localhost must not pin the host
 * to HTTPS). Returns the /docs policy for @fastify/swagger-ui to send in
 * place of the API's, and the setter for answers given before any hook.
 */
export function registerSecurityHeaders(
  app: App,
  publicUrl: string,
): { docsPolicy: string; setHeaders: (request: IncomingMessage, response: ServerResponse) => void } {
  const https = new URL(publicUrl).protocol === "https:";
  const headers = helmetHeaders({
    contentSecurityPolicy: { useDefaults: false, directives: API_POLICY },
    // The header older browsers read instead of frame-ancestors.
    xFrameOptions: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    // Not includeSubDomains: hosts below the public one are not Strata's to pin.
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  });
  const setHeaders = (_request: IncomingMessage, response: ServerResponse) => {
    for (const [name, value] of headers) response.setHeader(name, value);
  };
  app.addHook("onRequest", (request, reply, done) => {
    setHeaders(request.raw, reply.raw);
    done();
  });
  return { docsPolicy: serializePolicy(docsPolicy(https)), setHeaders };
}
