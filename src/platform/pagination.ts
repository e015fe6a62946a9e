import { sql } from "kysely";
import { errors } from "./errors/catalog.ts";

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

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TimeCursor {
  at: Date;
  id: string;
}

export function encodeCursor(cursor: TimeCursor): string {
  return Buffer.from(`${cursor.at.toISOString()}|${cursor.id}`).toString("base64url");
}

/** Decodes a cursor from `?cursor=`, or answers 400 naming the field. */
export function decodeCursor(raw: string | undefined): TimeCursor | null {
  if (raw === undefined) return null;
  const [at, id] = Buffer.from(raw, "base64url").toString().split("|");
  const date = new Date(at ?? "");
  if (!id || !UUID.test(id) || Number.isNaN(date.getTime())) {
    throw errors.validationFailed([
      { field: "query.cursor", code: "invalid", message: "is not a cursor this list issued" },
    ]);
  }
  return { at: date, id };
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
