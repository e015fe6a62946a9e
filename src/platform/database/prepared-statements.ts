/**
 * Hot statements sent as named prepared statements on the server profile:
 * Postgres parses and plans them once per connection instead of on every
 * request. A statement is registered by its SQL text (see document-read.ts);
 * the pool wrapper (retrying-postgres-dialect.ts) recognizes the text and
 * sends it with its name. PGlite runs the same text unnamed.
 *
 * Only fixed texts with explicit column lists belong here: a prepared plan is
 * re-planned after DDL, but a change to the types of the columns it returns
 * fails it. Behind a pooler in transaction mode (PgBouncer before 1.21),
 * named statements do not survive: leave this registry empty there.
 */
const names = new Map<string, string>();

/** Registers `text` under `name` and returns the text, to be sent as a CompiledQuery. */
export function preparedStatement(name: string, text: string): string {
  names.set(text, `strata_${name}`);
  return text;
}

export function preparedStatementName(text: string): string | undefined {
  return names.get(text);
}
