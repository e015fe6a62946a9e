import { type Kysely, sql } from "kysely";

/**
 * Everything in the public schema that a migration can create, read from
 * pg_catalog and written as sorted lines, so two snapshots compare with one
 * deepEqual and a difference prints as the lines that differ.
 */
export async function schemaSnapshot(db: Kysely<any>): Promise<string[]> {
  const queries = [
    sql<{ line: string }>`
      select 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
        || case when a.attnotnull then ' not null' else '' end
        || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as line
      from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f') and a.attnum > 0 and not a.attisdropped`,
    sql<{ line: string }>`select 'relation ' || c.relkind::text || ' ' || c.relname as line
      from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`,
    sql<{ line: string }>`select 'index ' || indexdef as line from pg_indexes where schemaname = 'public'`,
    sql<{ line: string }>`
      select 'constraint ' || t.relname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid) as line
      from pg_constraint con join pg_class t on t.oid = con.conrelid
      join pg_namespace n on n.oid = con.connamespace where n.nspname = 'public'`,
    sql<{ line: string }>`
      select 'type ' || t.typname || ' ' || coalesce(string_agg(e.enumlabel, ',' order by e.enumsortorder), '') as line
      from pg_type t join pg_namespace n on n.oid = t.typnamespace
      left join pg_enum e on e.enumtypid = t.oid
      where n.nspname = 'public' and t.typtype in ('e', 'd', 'c')
        and not exists (select 1 from pg_class c where c.reltype = t.oid)
      group by t.typname`,
    sql<{ line: string }>`
      select 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') ' || md5(p.prosrc) as line
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public'
        and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')`,
    sql<{ line: string }>`
      select 'trigger ' || pg_get_triggerdef(t.oid) as line
      from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and not t.tgisinternal`,
    sql<{ line: string }>`select 'extension ' || extname as line from pg_extension`,
  ];
  const lines: string[] = [];
  for (const query of queries) {
    const { rows } = await query.execute(db);
    for (const row of rows) lines.push(row.line);
  }
  return lines.sort();
}
