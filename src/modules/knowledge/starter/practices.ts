import type { NewPracticeBody } from "../schemas.ts";

/**
 * Strata's starter practices: approaches that have paid off in TypeScript
 * and Postgres backends, with how to apply them. Scores are Strata's own
 * estimates (effectiveness: how much the practice prevents the problems it
 * targets; adoption: how common it is in well-run teams), not survey data.
 */
export const STARTER_PRACTICES: NewPracticeBody[] = [
  {
    key: "ts-discriminated-unions",
    category: "typescript",
    title: "Model states as discriminated unions",
    description:
      "Give each state of a value its own object type with a literal `kind` (or `status`) field, and let the union carry only the fields that exist in that state. The compiler then refuses reads of fields a state does not have.",
    benefits: [
      "Impossible states cannot be represented",
      "Exhaustive handling checked by the compiler",
      "Self-documenting types",
    ],
    implementationGuide:
      "List the states; give each a literal tag; move fields that only exist in one state into it; replace boolean flags and optional fields with the union; switch on the tag with an exhaustive default.",
    antiPatterns: [
      "{ loading: boolean; error?: Error; data?: T }",
      "Optional fields whose presence depends on another field",
    ],
    references: [
      { title: "TypeScript handbook: narrowing", url: "https://www.typescriptlang.org/docs/handbook/2/narrowing.html" },
    ],
    examples: [
      {
        language: "typescript",
        code: "type Upload =\n  | { status: 'pending' }\n  | { status: 'ready'; chunks: number }\n  | { status: 'failed'; error: string };",
      },
    ],
    effectivenessScore: 0.85,
    adoptionRate: 0.6,
    required: false,
    tags: ["types", "design"],
  },
  {
    key: "ts-shapes-declared-once",
    category: "typescript",
    title: "Declare each API shape once and derive the rest",
    description:
      "Write a resource's schema once (TypeBox or Zod) and derive from it the static type, the request validation and the OpenAPI document, so the three cannot disagree.",
    benefits: ["Docs that match the code", "No drift between validation and types", "Generated clients for free"],
    implementationGuide:
      "Keep schemas in a schemas.ts per module with no HTTP imports; export `type X = Static<typeof X>`; pass the schemas to the router's validation and response serialization; generate the OpenAPI document from the routes.",
    antiPatterns: [
      "An interface and a hand-written validator for the same body",
      "OpenAPI written by hand beside the code",
    ],
    references: [{ title: "TypeBox", url: "https://github.com/sinclairzx81/typebox" }],
    examples: [],
    effectivenessScore: 0.8,
    adoptionRate: 0.45,
    required: true,
    tags: ["api", "validation"],
  },
  {
    key: "pg-explain-analyze",
    category: "postgres",
    title: "Read the plan of every hot query",
    description:
      "Run EXPLAIN (ANALYZE, BUFFERS) on production-sized data for every query on a hot path and on every new index. Look for sequential scans over large tables, row estimates far from actual, and sorts spilling to disk.",
    benefits: [
      "Catches missing indexes before production",
      "Shows whether an index is used at all",
      "Explains slow queries with evidence",
    ],
    implementationGuide:
      "Load realistic volumes (not ten rows); run the query with real parameters; compare estimated and actual rows; add or change an index; re-run and keep the before/after plans with the change.",
    antiPatterns: ["Adding indexes by guesswork", "Testing plans on an empty table"],
    references: [
      { title: "PostgreSQL: Using EXPLAIN", url: "https://www.postgresql.org/docs/current/using-explain.html" },
    ],
    examples: [
      {
        language: "sql",
        code: "explain (analyze, buffers) select id from orders where customer_id = 42 order by created_at desc limit 20;",
      },
    ],
    effectivenessScore: 0.9,
    adoptionRate: 0.5,
    required: true,
    tags: ["performance", "indexes"],
  },
  {
    key: "pg-partial-indexes",
    category: "postgres",
    title: "Index the rows queries actually read with partial indexes",
    description:
      "When queries always filter on a condition (active rows, unprocessed jobs, undeleted documents), a partial index with that WHERE clause is smaller, cheaper to maintain and faster than a full one.",
    benefits: ["Smaller indexes that stay in memory", "Less write overhead on rows outside the condition"],
    implementationGuide:
      "Find the predicate every query of the path shares; create the index with exactly that WHERE clause; make sure queries repeat the predicate literally so the planner can use it.",
    antiPatterns: ["A full index on a status column where 99% of rows are 'done'"],
    references: [
      { title: "PostgreSQL: Partial Indexes", url: "https://www.postgresql.org/docs/current/indexes-partial.html" },
    ],
    examples: [{ language: "sql", code: "create index idx_jobs_ready on jobs (run_at) where state = 'queued';" }],
    effectivenessScore: 0.75,
    adoptionRate: 0.35,
    required: false,
    tags: ["indexes", "performance"],
  },
  {
    key: "pg-pool-sizing",
    category: "postgres",
    title: "Size connection pools small and bound their waits",
    description:
      "Postgres does its best work with few active connections (about twice the cores). Give each process a small pool (2-10), a connection wait timeout, an idle timeout and a statement timeout, and add a pooler (PgBouncer) before raising max_connections.",
    benefits: [
      "Stable latency under load",
      "Back-pressure instead of a connection storm",
      "Room for maintenance connections",
    ],
    implementationGuide:
      "Start with max = 10 per process; set connectionTimeoutMillis and idleTimeoutMillis; watch pool wait time; scale processes, not pool size.",
    antiPatterns: ["max: 100 per instance times 20 instances", "No timeout on acquiring a connection"],
    references: [{ title: "node-postgres: pooling", url: "https://node-postgres.com/features/pooling" }],
    examples: [
      {
        language: "typescript",
        code: "new Pool({ min: 2, max: 10, idleTimeoutMillis: 300_000, statement_timeout: 10_000 });",
      },
    ],
    effectivenessScore: 0.8,
    adoptionRate: 0.55,
    required: true,
    tags: ["operations", "connections"],
  },
  {
    key: "pg-transactional-outbox",
    category: "postgres",
    title: "Publish events through a transactional outbox",
    description:
      "Write the event to an outbox table in the same transaction as the change it describes; a relay publishes outbox rows after commit and deletes them. The event exists if and only if the change committed.",
    benefits: [
      "No lost events on a crash after commit",
      "No events for rolled-back changes",
      "Retries without double writes",
    ],
    implementationGuide:
      "Insert the outbox row inside the transaction; after commit (or by polling) read rows in order, publish, then delete; make consumers idempotent by event id.",
    antiPatterns: [
      "Publishing to the broker before the transaction commits",
      "Publishing after commit with nothing to retry a failure",
    ],
    references: [
      {
        title: "Transactional outbox pattern",
        url: "https://microservices.io/patterns/data/transactional-outbox.html",
      },
    ],
    examples: [],
    effectivenessScore: 0.85,
    adoptionRate: 0.3,
    required: false,
    tags: ["events", "consistency"],
  },
  {
    key: "pg-advisory-locks",
    category: "postgres",
    title: "Serialize singleton work with advisory locks",
    description:
      "When only one process may do something at a time (run migrations, number the next version of a key), take a Postgres advisory lock keyed by what is being protected, transaction-scoped where possible so it cannot leak.",
    benefits: ["No extra infrastructure", "Released automatically at transaction end"],
    implementationGuide:
      "Use pg_advisory_xact_lock(hashtext('scope:' || key)) inside the transaction that does the work; prefer row locks (FOR UPDATE) when a row already represents the resource.",
    antiPatterns: [
      "Session-level locks held across pooled connections",
      "A 'locked' boolean column updated without a transaction",
    ],
    references: [
      {
        title: "PostgreSQL: Advisory Locks",
        url: "https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS",
      },
    ],
    examples: [{ language: "sql", code: "select pg_advisory_xact_lock(hashtext('template:' || $1));" }],
    effectivenessScore: 0.7,
    adoptionRate: 0.25,
    required: false,
    tags: ["concurrency", "locks"],
  },
  {
    key: "test-real-dependencies",
    category: "testing",
    title: "Test data access against the real database",
    description:
      "Run repository and query tests against a real Postgres (a scratch database per run, or an embedded build such as PGlite), not mocks. Constraints, transactions, locks and query plans are the behaviour under test.",
    benefits: [
      "Catches SQL errors and constraint violations",
      "Tests survive refactors of the data layer",
      "Migrations exercised on every run",
    ],
    implementationGuide:
      "Create a scratch database per test file; apply every migration; seed with factories; drop it afterwards. Keep mocks for third parties you cannot run.",
    antiPatterns: [
      "Mocking the query builder and asserting on method calls",
      "A shared test database that tests pollute",
    ],
    references: [],
    examples: [],
    effectivenessScore: 0.85,
    adoptionRate: 0.5,
    required: true,
    tags: ["testing", "integration"],
  },
  {
    key: "obs-structured-logs",
    category: "operations",
    title: "Log structured events with a request id",
    description:
      "Log JSON events with fixed field names, a level and the request id that the response also carries, so one request can be followed across services and logs can be queried rather than grepped.",
    benefits: ["Faster incident diagnosis", "Queryable logs", "Correlation across services"],
    implementationGuide:
      "Use a structured logger (pino); accept or generate a request id per request; bind it into a child logger; return it in a response header; redact secrets.",
    antiPatterns: ["console.log(`user ${id} failed: ${err}`)", "Logging whole request bodies"],
    references: [{ title: "pino", url: "https://getpino.io" }],
    examples: [{ language: "typescript", code: "request.log.info({ documentId, versions: n }, 'document restored');" }],
    effectivenessScore: 0.75,
    adoptionRate: 0.6,
    required: false,
    tags: ["logging", "observability"],
  },
  {
    key: "api-idempotent-writes",
    category: "api",
    title: "Make retried writes safe",
    description:
      "Clients and proxies retry. Give create operations an idempotency key or a natural unique key, and make background job handlers safe to run twice, so a retry never creates a duplicate or charges twice.",
    benefits: ["Safe client retries", "At-least-once delivery without duplicates"],
    implementationGuide:
      "Accept an Idempotency-Key header and store the first response under it; or insert with ON CONFLICT on a natural key; in jobs, check what is already done before doing it.",
    antiPatterns: ["Retrying a POST blindly after a timeout"],
    references: [],
    examples: [
      {
        language: "sql",
        code: "insert into payments (idempotency_key, amount) values ($1, $2)\non conflict (idempotency_key) do nothing returning id;",
      },
    ],
    effectivenessScore: 0.8,
    adoptionRate: 0.35,
    required: false,
    tags: ["api", "reliability"],
  },
];
