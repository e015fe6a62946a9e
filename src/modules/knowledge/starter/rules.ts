import type { NewRuleBody } from "../schemas.ts";

/**
 * Strata's starter rules for TypeScript, Node and Postgres work: what a
 * team's assistant should hold code to. `strata seed` loads them as system
 * entries; an organization adds its own beside them. Examples are code, so
 * their strings hold `${...}` on purpose (biome.json lets them).
 */
export const STARTER_RULES: NewRuleBody[] = [
  {
    key: "ts-strict-mode",
    category: "typescript",
    title: "Compile with strict mode on",
    description:
      "Set `strict: true` in tsconfig.json (and keep it on). It enables strictNullChecks, noImplicitAny, strictFunctionTypes and the other checks that catch null dereferences and untyped values at compile time instead of in production.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        title: "tsconfig.json",
        language: "json",
        kind: "good",
        code: '{\n  "compilerOptions": {\n    "strict": true,\n    "noUncheckedIndexedAccess": true,\n    "exactOptionalPropertyTypes": true\n  }\n}',
      },
    ],
    antiPatterns: ["Turning strict off to silence errors in a migration to TypeScript", "// @ts-ignore on every line"],
    violationsConsequence: "Null and undefined reach code that assumes a value; crashes appear at run time.",
    tags: ["tsconfig", "types"],
    priority: 100,
  },
  {
    key: "ts-no-explicit-any",
    category: "typescript",
    title: "Use unknown, not any, for values of unknown shape",
    description:
      "`any` switches type checking off for everything it touches and spreads through inference. Type untrusted or dynamic values as `unknown` and narrow them (a schema, a type guard) before use.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [
      {
        language: "typescript",
        kind: "bad",
        code: "function total(body: any) {\n  return body.items.reduce((s: any, i: any) => s + i.price, 0);\n}",
      },
      {
        language: "typescript",
        kind: "good",
        code: "function total(body: unknown): number {\n  const order = OrderSchema.parse(body);\n  return order.items.reduce((sum, item) => sum + item.price, 0);\n}",
      },
    ],
    antiPatterns: ["JSON.parse(text) as MyType without validation", "catch (e: any) { e.message }"],
    violationsConsequence: "Shape errors pass the compiler and surface as undefined values far from their cause.",
    tags: ["types"],
    priority: 50,
  },
  {
    key: "ts-no-floating-promises",
    category: "typescript",
    title: "Await, return or explicitly handle every promise",
    description:
      "A promise nobody awaits loses its rejection: Node reports an unhandled rejection (and exits by default) or the failure goes unseen. Await it, return it, or hand it to a function that catches and logs; mark deliberate fire-and-forget with `void` and a `.catch`.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "bad",
        code: "app.post('/orders', async (req) => {\n  saveAudit(req.body); // not awaited\n});",
      },
      {
        language: "typescript",
        kind: "good",
        code: "void saveAudit(req.body).catch((err) => logger.error({ err }, 'audit write failed'));",
      },
    ],
    antiPatterns: ["array.forEach(async (x) => ...)", "Calling an async function in a constructor"],
    violationsConsequence: "Writes silently fail, or the process exits on an unhandled rejection.",
    tags: ["async", "lint"],
    priority: 90,
  },
  {
    key: "ts-exhaustive-switch",
    category: "typescript",
    title: "Make switches over unions exhaustive",
    description:
      "When switching over a union (a status, a discriminated union's kind), end with a default that assigns the value to `never`. Adding a member then fails to compile everywhere it is not handled.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "switch (job.state) {\n  case 'queued': return 'waiting';\n  case 'running': return 'working';\n  case 'done': return 'finished';\n  default: {\n    const unreachable: never = job.state;\n    throw new Error(`unknown state ${unreachable}`);\n  }\n}",
      },
    ],
    antiPatterns: ["A default branch that silently returns a fallback for unknown states"],
    violationsConsequence: "A new state is handled nowhere and falls through to the wrong behaviour.",
    tags: ["types", "unions"],
    priority: 40,
  },
  {
    key: "ts-validate-at-boundary",
    category: "typescript",
    title: "Validate untrusted input at the boundary, with a schema",
    description:
      "Request bodies, query strings, environment variables, queue payloads and third-party responses are untrusted. Validate them once where they enter, against a schema that also gives the static type (TypeBox, Zod), and reject unknown fields rather than dropping them.",
    severity: "CRITICAL",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "const NewUser = Type.Object({ email: Type.String({ format: 'email' }), name: Type.String({ maxLength: 100 }) }, { additionalProperties: false });\napp.post('/users', { schema: { body: NewUser } }, handler);",
      },
    ],
    antiPatterns: ["Validating deep inside business logic", "Spreading req.body into a database insert"],
    violationsConsequence: "Mass assignment (`{ role: 'admin' }`), injection and crashes on malformed input.",
    tags: ["security", "validation", "api"],
    priority: 100,
  },
  {
    key: "ts-errors-have-codes",
    category: "typescript",
    title: "Throw Error objects with stable codes, never strings",
    description:
      "Throw instances of Error (or a subclass) so stacks survive, and give errors that cross an API a stable machine-readable code. Clients switch on the code; the message is for people and may change.",
    severity: "ERROR",
    enforcement: "recommended",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "throw new ApiError('document_not_found', 'no such document', { documentId });",
      },
      { language: "typescript", kind: "bad", code: "throw 'not found';" },
    ],
    antiPatterns: ["Matching on error.message in callers", "Returning 500 for a validation failure"],
    violationsConsequence: "Clients parse messages, and a reworded message breaks them.",
    tags: ["errors", "api"],
    priority: 60,
  },
  {
    key: "ts-no-non-null-assertion",
    category: "typescript",
    title: "Prefer a check to the non-null assertion operator",
    description:
      "`value!` tells the compiler a value exists without checking. Narrow with an explicit check that throws a meaningful error, or restructure so the type carries the guarantee.",
    severity: "INFO",
    enforcement: "optional",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "const user = users.get(id);\nif (!user) throw new Error(`user ${id} not loaded`);",
      },
    ],
    antiPatterns: ["map.get(key)!.field"],
    violationsConsequence: "A TypeError far from the real cause when the assumption fails.",
    tags: ["types"],
    priority: 10,
  },
  {
    key: "node-no-blocking-event-loop",
    category: "node",
    title: "Keep CPU-heavy work off the event loop",
    description:
      "One request's synchronous work delays every other request in the process. Diffs, compression, parsing of large documents, hashing of passwords and embeddings belong in worker threads or in bounded steps that yield; measure event-loop delay under load.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "const pool = new Piscina({ filename: DIFF_WORKER_FILE, maxThreads: 2 });\nconst patch = await pool.run({ before, after });",
      },
    ],
    antiPatterns: [
      "JSON.parse of a 50 MB body on the request path",
      "Synchronous bcrypt/argon2 hashing",
      "fs.readFileSync in a handler",
    ],
    violationsConsequence: "Latency spikes for every client; health checks time out and instances are restarted.",
    tags: ["performance", "event-loop"],
    priority: 90,
  },
  {
    key: "node-graceful-shutdown",
    category: "node",
    title: "Shut down gracefully on SIGTERM",
    description:
      "On SIGTERM stop accepting work, let in-flight requests and jobs finish within a grace period, hand unfinished jobs back, then close pools. Orchestrators send SIGTERM before SIGKILL precisely for this.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "process.once('SIGTERM', async () => {\n  await server.close();\n  await workers.stop({ graceMs: 10_000 });\n  await pool.end();\n});",
      },
    ],
    antiPatterns: ["process.exit() in a signal handler with requests in flight"],
    violationsConsequence: "Dropped requests and jobs left half-done on every deploy.",
    tags: ["operations"],
    priority: 30,
  },
  {
    key: "pg-parameterized-queries",
    category: "postgres",
    title: "Never build SQL by concatenating values",
    description:
      "Pass values as bind parameters (a query builder, or `$1` placeholders); interpolate only identifiers you chose yourself, quoted. String-built SQL is injectable and defeats prepared-statement reuse.",
    severity: "CRITICAL",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "bad",
        code: "await pool.query(`select * from users where email = '${email}'`);",
      },
      {
        language: "typescript",
        kind: "good",
        code: "await pool.query('select id, name from users where email = $1', [email]);",
      },
    ],
    antiPatterns: ["Escaping quotes by hand", "sql.raw(userInput)"],
    violationsConsequence: "SQL injection: data read or destroyed by anyone who can send a request.",
    tags: ["security", "sql"],
    priority: 100,
  },
  {
    key: "pg-transaction-for-related-writes",
    category: "postgres",
    title: "Make related writes one transaction",
    description:
      "Writes that must happen together (an order and its lines, a row and its outbox event) go in one transaction, so a failure in the middle leaves nothing half-written. Keep transactions short and never wait on the network inside one.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "await db.transaction().execute(async (trx) => {\n  const order = await trx.insertInto('orders').values(o).returning('id').executeTakeFirstOrThrow();\n  await trx.insertInto('order_lines').values(lines.map((l) => ({ ...l, order_id: order.id }))).execute();\n});",
      },
    ],
    antiPatterns: [
      "Calling an HTTP API while holding a transaction open",
      "Two awaits on the pool that must both succeed",
    ],
    violationsConsequence: "Orphan and half-written rows after a crash or a failed second statement.",
    tags: ["transactions", "consistency"],
    priority: 80,
  },
  {
    key: "pg-index-foreign-keys",
    category: "postgres",
    title: "Index the referencing side of foreign keys",
    description:
      "Postgres indexes a primary key but not the columns that reference it. Without an index on the referencing column, joins scan and every delete of a parent row scans the child table to check the constraint.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [{ language: "sql", kind: "good", code: "create index on order_lines (order_id);" }],
    antiPatterns: ["A cascade delete over an unindexed child table of millions of rows"],
    violationsConsequence: "Slow joins and deletes that lock and scan whole tables.",
    tags: ["indexes", "performance"],
    priority: 50,
  },
  {
    key: "pg-use-timestamptz",
    category: "postgres",
    title: "Store moments as timestamptz",
    description:
      "`timestamp` without time zone stores a wall-clock reading whose meaning depends on the writer's zone. `timestamptz` stores an instant and converts on output; use it for every created_at, updated_at and deadline.",
    severity: "WARNING",
    enforcement: "mandatory",
    examples: [{ language: "sql", kind: "good", code: "created_at timestamptz not null default now()" }],
    antiPatterns: ["timestamp default now() on a server whose TimeZone changes"],
    violationsConsequence: "Times shift by hours between services or after a configuration change.",
    tags: ["schema", "time"],
    priority: 40,
  },
  {
    key: "pg-keyset-pagination",
    category: "postgres",
    title: "Paginate lists by key, not by offset",
    description:
      "OFFSET reads and throws away every skipped row, so deep pages get slower and rows shift between pages as others are inserted. Order by a unique key (created_at, id) and ask for rows after the last one seen, with an index on that order.",
    severity: "INFO",
    enforcement: "recommended",
    examples: [
      {
        language: "sql",
        kind: "good",
        code: "select id, title, created_at from posts\nwhere (created_at, id) > ($1, $2)\norder by created_at, id\nlimit 50;",
      },
    ],
    antiPatterns: ["?page=400 translated to OFFSET 20000"],
    violationsConsequence: "Deep pages time out; clients see duplicates and gaps.",
    tags: ["api", "performance"],
    priority: 20,
  },
  {
    key: "pg-statement-timeout",
    category: "postgres",
    title: "Bound every statement with a timeout",
    description:
      "Set statement_timeout for the application's role or pool (seconds, not minutes), and lock_timeout for migrations. A runaway query then fails fast instead of holding a connection and locks until the pool is exhausted.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [
      {
        language: "sql",
        kind: "good",
        code: "alter role app set statement_timeout = '10s';\nset lock_timeout = '5s'; -- before DDL",
      },
    ],
    antiPatterns: ["No timeout, so one bad query holds every connection"],
    violationsConsequence: "A single slow query exhausts the pool and takes the whole service down.",
    tags: ["operations", "reliability"],
    priority: 60,
  },
  {
    key: "pg-reversible-migrations",
    category: "postgres",
    title: "Write every migration with its rollback, and never edit an applied one",
    description:
      "Number migrations in sequence, give each an up and a down that undoes it exactly, and test both. Once a migration has run anywhere, change the schema with a new migration rather than editing the old one.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "export const m012 = {\n  version: 12,\n  up: (db) => sql`alter table users add column locale text`.execute(db),\n  down: (db) => sql`alter table users drop column locale`.execute(db),\n};",
      },
    ],
    antiPatterns: ["Editing 003_init.sql after it shipped", "A down that drops more than its up created"],
    violationsConsequence: "Environments drift apart and a failed deploy cannot be rolled back.",
    tags: ["migrations", "schema"],
    priority: 80,
  },
  {
    key: "pg-concurrent-index-builds",
    category: "postgres",
    title: "Build indexes on large live tables concurrently",
    description:
      "CREATE INDEX takes a lock that blocks writes for the whole build. On a table already serving traffic use CREATE INDEX CONCURRENTLY (outside a transaction) and check for an invalid index if it fails.",
    severity: "WARNING",
    enforcement: "recommended",
    examples: [
      { language: "sql", kind: "good", code: "create index concurrently idx_orders_customer on orders (customer_id);" },
    ],
    antiPatterns: ["A plain CREATE INDEX on a 100 GB table at noon"],
    violationsConsequence: "Writes block for minutes while the index builds.",
    tags: ["indexes", "migrations"],
    priority: 30,
  },
  {
    key: "pg-select-needed-columns",
    category: "postgres",
    title: "Select the columns you need",
    description:
      "`select *` reads large columns (text, JSONB, vectors) the caller never uses, defeats index-only scans and changes shape when a column is added. Name the columns an API response needs.",
    severity: "INFO",
    enforcement: "optional",
    examples: [
      { language: "sql", kind: "good", code: "select id, title, updated_at from documents where owner_id = $1;" },
    ],
    antiPatterns: ["select * from documents to list titles"],
    violationsConsequence: "Slower lists and internal columns leaking into responses.",
    tags: ["performance", "api"],
    priority: 10,
  },
  {
    key: "sec-no-secrets-in-code",
    category: "security",
    title: "Keep secrets out of code and logs",
    description:
      "Credentials, API keys and signing secrets come from the environment or a secret store, never from the repository; logs redact authorization headers, tokens and passwords.",
    severity: "CRITICAL",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "const logger = pino({ redact: ['req.headers.authorization', '*.password', '*.token'] });",
      },
    ],
    antiPatterns: ["A .env file committed to git", "Logging the full request including headers"],
    violationsConsequence: "Leaked credentials; every secret in history must be rotated.",
    tags: ["security", "secrets"],
    priority: 100,
  },
  {
    key: "api-not-found-for-others",
    category: "api",
    title: "Answer 404 for another tenant's resource",
    description:
      "When a caller names a resource that exists but is not theirs, answer exactly as for one that does not exist (404), so ids cannot be probed. Scope every query by the caller's tenant rather than checking ownership after loading.",
    severity: "ERROR",
    enforcement: "mandatory",
    examples: [
      {
        language: "typescript",
        kind: "good",
        code: "const doc = await db.selectFrom('documents').selectAll()\n  .where('id', '=', id).where('organization_id', '=', caller.organizationId)\n  .executeTakeFirst();\nif (!doc) throw errors.documentNotFound();",
      },
    ],
    antiPatterns: ["403 Forbidden for someone else's id", "Loading by id alone, then comparing owner in code"],
    violationsConsequence: "Ids and tenants can be enumerated; a missed ownership check leaks data.",
    tags: ["security", "multi-tenancy", "api"],
    priority: 90,
  },
];
