import type { Principal } from "../../platform/identity/principal.ts";
import type { Platform } from "../../runtime/platform.ts";
import { textMemoryPerPlatform } from "./content-memory.ts";
import { readOwnedDocument } from "./document-read.ts";
import { isSharedRow } from "./document-row-cache.ts";
import { currentContent, type DocumentRow } from "./documents.ts";
import { documentView } from "./views.ts";

/**
 * GET /v1/documents/:id's response body, serialized once per cached row.
 *
 * The body is a function of the row alone (its view, and the content its
 * SHA-256 names), and a cached row stays the same object until the document
 * changes (the embedded row cache, document-row-cache.ts, or the server
 * profile's generation-checked one, document-generations.ts), so the JSON
 * made for that object can be sent again as it is: a warm read
 * then neither builds the view nor runs the schema serializer over the
 * content (escaping 4 KB of text was the largest part of the handler's CPU).
 * Keyed by the row object, an entry for a changed document is never hit again
 * and ages out; the whole is bounded by size. Rows read by statement are
 * fresh objects every time and are not kept.
 */
const bodies = textMemoryPerPlatform<DocumentRow>(32 * 1024 * 1024);

/**
 * The caller's document as the route's JSON, `serialize` being the route's
 * own response serializer; `generation` is the document's, from admission
 * (0 when unknown).
 */
export async function documentReadBody(
  platform: Platform,
  principal: Principal,
  id: string,
  generation: number,
  serialize: (payload: unknown) => string,
): Promise<string> {
  const row = await readOwnedDocument(platform, principal, id, generation);
  const shared = isSharedRow(row);
  const held = shared ? bodies(platform).get(row) : undefined;
  if (held !== undefined) return held;
  const content = await currentContent(platform, row);
  const json = serialize({ ...documentView(row), content });
  if (shared) bodies(platform).set(row, json);
  return json;
}
