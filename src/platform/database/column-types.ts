import type { ColumnType } from "kysely";

/** Column types shared by every module's table definitions. */

export type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
export type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
/** JSONB: read as a value, written as JSON text. */
export type Json<T> = ColumnType<T, string | undefined, string>;
