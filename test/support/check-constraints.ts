import { type Kysely, sql } from "kysely";

/**
 * The string values the CHECK constraints on one column allow (those that
 * name that column alone), read from the catalog, sorted: what a closed set
 * declared in a table definition must equal. Empty when no such constraint
 * lists values.
 */
export async function checkedValues(db: Kysely<any>, table: string, column: string): Promise<string[]> {
  const { rows } = await sql<{ definition: string }>`
    select pg_get_constraintdef(con.oid) as definition
    from pg_constraint con
    join pg_class t on t.oid = con.conrelid
    join pg_namespace n on n.oid = t.relnamespace
    join pg_attribute a on a.attrelid = t.oid and a.attnum = con.conkey[1]
    where n.nspname = 'public' and con.contype = 'c' and cardinality(con.conkey) = 1
      and t.relname = ${table} and a.attname = ${column}`.execute(db);
  const values = rows.flatMap((row) => [...row.definition.matchAll(/'((?:[^']|'')*)'::text/g)].map((m) => m[1] ?? ""));
  return [...new Set(values)].sort();
}
