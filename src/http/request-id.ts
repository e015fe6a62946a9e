import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

const SAFE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Request ids: a caller's `x-request-id` is kept when it is short and plain
 * (so a trace spans the caller and Strata), otherwise a fresh UUID. The id is
 * echoed in the response header and tagged on every log line of the request.
 */
export function requestId(request: IncomingMessage): string {
  const given = request.headers["x-request-id"];
  return typeof given === "string" && SAFE_ID.test(given) ? given : randomUUID();
}
