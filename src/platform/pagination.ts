import { type SelectQueryBuilder, sql } from "kysely";
import { errors } from "./errors/catalog.ts";
import { isUuid } from "./ids.ts";

/**
 * Keyset pagination shared by every list route: `?limit=` (1-100, default
 * 50) and an opaque `?cursor=` that encodes the sort key of the last item.
 * Keyset, not offset, so pages stay stable while rows are added.
 */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursors are opaque to clients, and every list decodes them here, so a
 * cursor this server did not issue (altered, truncated, or another list's)
 * is a 400 naming `query.cursor` and never reaches a query: a date Postgres
 * cannot hold or an id that is not a UUID would otherwise fail there, as a
 * 500.
 */
export interface TimeCursor {
  at: Date;
  id: string;
}

function invalidCursor(): never {
  throw errors.validationFailed([
    { field: "query.cursor", code: "invalid", message: "is not a cursor this list issued" },
  ]);
}

function cursorText(raw: string): string {
  // base64url only: Buffer.from would skip other characters silently.
  if (!/^[A-Za-z0-9_-]+$/.test(raw)) invalidCursor();
  return Buffer.from(raw, "base64url").toString();
}

/** An ISO time exactly as toISOString writes it for the years 1-9999 (Postgres has no year 0). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function encodeCursor(cursor: TimeCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString("base64url");
}

/** Decodes a cursor from `?cursor=`, or answers 400 naming the field. */
export function decodeCursor(raw: string | undefined): TimeCursor | null {
  if (raw === undefined) return null;
  const parts = cursorText(raw).split("|");
  const [at, id] = parts;
  if (parts.length !== 2 || !at || !ISO_TIME.test(at) || at.startsWith("0000") || !isUuid(id)) invalidCursor();
  const date = new Date(at);
  // A well-formed but impossible date (February 30th) does not round-trip.
  if (Number.isNaN(date.getTime()) || date.toISOString() !== at) invalidCursor();
  return { at: date, id };
}

/** A cursor holding a positive 32-bit number (a version number, say). */
export function encodeNumberCursor(n: number): string {
  return Buffer.from(String(n)).toString("base64url");
}

export function decodeNumberCursor(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  const text = cursorText(raw);
  const n = Number(text);
  if (!/^[1-9]\d{0,9}$/.test(text) || n > 2_147_483_647) invalidCursor();
  return n;
}

/**
 * A cursor holding a text sort key (a template key, a worker id), for lists
 * ordered by a unique string. `valid` says which keys the list can have
 * issued; any other is refused like any other foreign cursor.
 */
export function encodeKeyCursor(key: string): string {
  return Buffer.from(key).toString("base64url");
}

export function decodeKeyCursor(raw: string | undefined, valid: (key: string) => boolean): string | null {
  if (raw === undefined) return null;
  const key = cursorText(raw);
  // Bytes that were not UTF-8 come back as U+FFFD and do not round-trip.
  if (key.length === 0 || encodeKeyCursor(key) !== raw || !valid(key)) invalidCursor();
  return key;
}

/** A cursor holding a search rank and the id that breaks ties. */
export function encodeRankCursor(rank: number, id: string): string {
  return Buffer.from(JSON.stringify({ r: rank, id })).toString("base64url");
}

export function decodeRankCursor(raw: string | undefined): { rank: number; id: string } | null {
  if (raw === undefined) return null;
  let parsed: { r?: unknown; id?: unknown } | null = null;
  try {
    parsed = JSON.parse(cursorText(raw)) as { r?: unknown; id?: unknown } | null;
  } catch {
    invalidCursor();
  }
  if (typeof parsed?.r !== "number" || !Number.isFinite(parsed.r) || !isUuid(parsed.id)) invalidCursor();
  return { rank: parsed.r, id: parsed.id };
}

/** Splits `limit + 1` fetched rows into a page and the cursor of the next one. */
export function toPage<R, T>(rows: R[], limit: number, key: (row: R) => TimeCursor, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(map), nextCursor: rows.length > limit && last ? encodeCursor(key(last)) : null };
}

/** `(at, id) > (cursor.at, cursor.id)`: a row-value comparison the (created_at, id) indexes serve. */
export function afterCursor(cursor: TimeCursor, atColumn: string, idColumn: string) {
  return sql<boolean>`(${sql.ref(atColumn)}, ${sql.ref(idColumn)}) > (${cursor.at}, ${cursor.id})`;
}

/** `(at, id) < (cursor.at, cursor.id)`, for lists that run newest first. */
export function beforeCursor(cursor: TimeCursor, atColumn: string, idColumn: string) {
  return sql<boolean>`(${sql.ref(atColumn)}, ${sql.ref(idColumn)}) < (${cursor.at}, ${cursor.id})`;
}

/**
 * One page of a list that runs newest first by (created_at, id): the
 * query's own filters, then the cursor's bound, the order and `limit + 1`
 * rows (the extra one says whether a next page exists).
 */
export async function newestFirstPage<DB, TB extends keyof DB, R extends { created_at: Date; id: string }, T>(
  query: SelectQueryBuilder<DB, TB, R>,
  options: { limit: number; cursor?: string | undefined },
  map: (row: R) => T,
): Promise<Page<T>> {
  const after = decodeCursor(options.cursor);
  const bounded = after ? query.where(beforeCursor(after, "created_at", "id")) : query;
  const rows = await bounded
    .orderBy(sql.ref("created_at"), "desc")
    .orderBy(sql.ref("id"), "desc")
    .limit(options.limit + 1)
    .execute();
  return toPage(rows as R[], options.limit, (r) => ({ at: r.created_at, id: r.id }), map);
}
