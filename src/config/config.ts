import path from "node:path";
import { Cron } from "croner";
import { z } from "zod";

/**
 * Strata's whole configuration, read once from the environment at start-up,
 * validated, and frozen. Nothing else in the code base reads process.env:
 * every component receives the slice of this object it needs.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` },
  );
/**
 * A comma-separated list of browser origins (scheme, host and port; no path),
 * each normalised as browsers send it in the Origin header, so that a listed
 * `https://App.example.com:443` matches.
 */
const originList = z.string().transform((value, context) => {
  const origins: string[] = [];
  for (const item of value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean)) {
    const origin = parseOrigin(item);
    if (origin === null) {
      context.addIssue({
        code: "custom",
        message: `has "${item}", which is not an origin: give each as http(s)://host[:port], without path, query or *`,
      });
      return z.NEVER;
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  return origins;
});
const flag = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/**
 * The local models seed 002 names: entries (passages) use the larger, topics
 * and other short texts the smaller. Each is a directory under
 * EMBEDDING_MODEL_DIR holding the model's ONNX export (as Xenova/<name>).
 */
export const DEFAULT_PASSAGE_MODEL = "all-mpnet-base-v2";
export const DEFAULT_SHORT_MODEL = "all-MiniLM-L6-v2";

/** A local model's directory name: one path segment, so a name never reaches outside EMBEDDING_MODEL_DIR. */
const modelName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a model directory's name: letters, digits, dot, dash, underscore");

/** The embeddings model asked of an EMBEDDING_BASE_URL that names none. */
export const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";

/** Tokens and requests per minute; null means that kind is not limited. */
export interface AiLimits {
  tokensPerMinute: number | null;
  requestsPerMinute: number | null;
}

/**
 * AI_MODEL_LIMITS: comma-separated `model=tokens/requests` entries (per
 * minute), e.g. `gpt-4o-mini=200000/500,gpt-4=40000/200`. The model is
 * everything before the last `=`, so names with `/` or `:` (vLLM's
 * `meta-llama/Llama-3.1-8B-Instruct`, Ollama's `llama3:8b`) need no quoting.
 * Either number may be left out (`gpt-4=40000/`): that kind is then not
 * limited for the model. An entry replaces the defaults for its model.
 */
const modelLimitList = z.string().transform((value, context) => {
  const models: [string, AiLimits][] = [];
  for (const item of value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean)) {
    const entry = parseModelLimit(item);
    if (entry === null) {
      context.addIssue({
        code: "custom",
        message: `has "${item}", which is not model=tokens/requests: give each as e.g. gpt-4o-mini=200000/500 (per minute; whole numbers above 0, either may be left out)`,
      });
      return z.NEVER;
    }
    if (models.some(([model]) => model === entry[0])) {
      context.addIssue({ code: "custom", message: `names the model "${entry[0]}" more than once` });
      return z.NEVER;
    }
    models.push(entry);
  }
  return Object.fromEntries(models) as Record<string, AiLimits>;
});

const envSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default("localhost"),
  PUBLIC_URL: url(["http:", "https:"]).optional(),
  CORS_ORIGINS: originList.default([]),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  STRATA_DATA_DIR: z.string().min(1).default("./data"),
  STRATA_SIGNING_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  DATABASE_URL: url(["postgres:", "postgresql:"]).optional(),
  DATABASE_READ_URL: url(["postgres:", "postgresql:"]).optional(),
  DATABASE_POOL_MAX: positiveInt.max(1000).default(10),
  DATABASE_POOL_MIN: z.coerce.number().int().min(0).max(1000).default(2),
  DATABASE_POOL_IDLE_MS: positiveInt.default(5 * 60_000),
  DATABASE_BREAKER_FAILURES: positiveInt.max(1000).default(3),
  DATABASE_BREAKER_HALF_OPEN_MS: positiveInt.max(3_600_000).default(30_000),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(10_000),
  REDIS_URL: url(["redis:", "rediss:"]).optional(),
  KV_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]*$/, "may hold only letters, digits and : _ . -")
    .default("strata:"),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_ENDPOINT: url(["http:", "https:"]).optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: flag.optional(),
  SIGNED_URL_TTL_SECONDS: positiveInt.max(7 * 24 * 3600).default(900),
  JWT_ISSUER: z.string().min(1).default("strata"),
  JWT_AUDIENCE: z.string().min(1).default("strata-api"),
  ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(24 * 3600).default(900),
  REFRESH_TOKEN_TTL_SECONDS: positiveInt.default(7 * 24 * 3600),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
  ANONYMOUS_SESSION_TTL_SECONDS: positiveInt.default(24 * 3600),
  AI_BASE_URL: url(["http:", "https:"]).optional(),
  AI_API_KEY: z.string().min(1).optional(),
  AI_MODEL: z.string().min(1).default("gpt-4o-mini"),
  AI_TIMEOUT_MS: positiveInt.max(600_000).default(60_000),
  AI_TOKENS_PER_MINUTE: positiveInt.optional(),
  AI_REQUESTS_PER_MINUTE: positiveInt.optional(),
  AI_MODEL_LIMITS: modelLimitList.optional(),
  EMBEDDING_BASE_URL: url(["http:", "https:"]).optional(),
  EMBEDDING_API_KEY: z.string().min(1).optional(),
  EMBEDDING_MODEL: z.string().min(1).optional(),
  CHAT_HISTORY_TOKENS: positiveInt.max(1_000_000).default(8_000),
  FILE_MAX_BYTES: positiveInt.max(2 ** 40).default(25 * 1024 * 1024),
  CHANGES_HISTORY: positiveInt.max(10_000_000).default(10_000),
  KNOWLEDGE_CACHE_HOT_BYTES: positiveInt.max(2 ** 40).default(64 * 1024 * 1024),
  KNOWLEDGE_CACHE_WARM_BYTES: positiveInt.max(2 ** 40).default(256 * 1024 * 1024),
  EMBEDDING_MODEL_DIR: z.string().min(1).optional(),
  EMBEDDING_PASSAGE_MODEL: modelName.default(DEFAULT_PASSAGE_MODEL),
  EMBEDDING_SHORT_MODEL: modelName.default(DEFAULT_SHORT_MODEL),
  EMBEDDING_BACKFILL_BATCH: positiveInt.max(1000).default(32),
  EMBEDDING_BACKFILL_PAUSE_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|\d+|[0-9a-fA-F.:/,\s]+)$/,
      "must be true, false, a hop count, or a list of proxy addresses/CIDRs",
    )
    .default("false"),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  WRITING_HISTORY_MIGRATION_BATCH: positiveInt.max(10_000).default(20),
  WRITING_HISTORY_MIGRATION_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(50),
  // Contexts one worker process (or `npm start`'s embedded workers) processes at once.
  GENERATION_WORKER_CONCURRENCY: positiveInt.max(256).default(4),
  // How long a worker's claim on a context lasts without being extended: a dead worker's contexts go to
  // another worker after this long.
  GENERATION_LEASE_MS: positiveInt.min(1_000).max(600_000).default(30_000),
  // Retries of a context whose component failed, before it is kept as failed.
  GENERATION_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(3),
  // When the writing maintenance runs (cron, UTC; a sixth, leading field is seconds).
  WRITING_MAINTENANCE_CRON: z
    .string()
    .default("* * * * *")
    .refine(isCronExpression, "must be a cron expression, e.g. '* * * * *' (every minute)"),
});

function isCronExpression(expression: string): boolean {
  try {
    new Cron(expression, { paused: true });
    return true;
  } catch {
    return false;
  }
}

export type DatabaseConfig =
  | { driver: "pglite"; dataDir: string | null; statementTimeoutMs: number }
  | {
      driver: "postgres";
      url: string;
      readUrl: string | null;
      poolMax: number;
      /** Connections kept open when idle (seed 004: 2), and how long a connection above them may idle (5 minutes). */
      poolMin?: number;
      idleTimeoutMs?: number;
      /** The circuit breaker: consecutive outages that open it (seed 004: 3), and how long until one probe (30 s). */
      breakerFailures?: number;
      breakerHalfOpenMs?: number;
      statementTimeoutMs: number;
    };

export type KvConfig = { driver: "memory"; keyPrefix: string } | { driver: "redis"; url: string; keyPrefix: string };

export type BlobConfig =
  | { driver: "fs"; root: string }
  | {
      driver: "s3";
      bucket: string;
      endpoint: string | null;
      region: string;
      forcePathStyle: boolean;
      credentials: { accessKeyId: string; secretAccessKey: string } | null;
    };

/** "embedded" when no server dependency is configured, "server" when all are, "mixed" otherwise. */
export const PROFILES = ["embedded", "server", "mixed"] as const;

export interface Config {
  profile: (typeof PROFILES)[number];
  http: {
    port: number;
    host: string;
    publicUrl: string;
    bodyLimitBytes: number;
    /** Fastify's trustProxy: false, true, a hop count, or proxy addresses. Decides where the client IP comes from. */
    trustProxy: boolean | number | string[];
    /**
     * Browser origins granted cross-origin access (CORS); empty means none is,
     * and no response carries Access-Control-Allow-Origin.
     */
    corsOrigins: string[];
  };
  logLevel: string;
  dataDir: string;
  /** Null means: use (or create) the secret kept in the data directory. */
  signingSecret: string | null;
  signedUrlTtlSeconds: number;
  auth: {
    issuer: string;
    audience: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    refreshReuseGraceSeconds: number;
    anonymousSessionTtlSeconds: number;
  };
  shutdownGraceMs: number;
  /**
   * The writing module's background migration of version histories to the
   * content-object form: documents per batch, and the pause between batches.
   */
  writing: { historyMigrationBatch: number; historyMigrationPauseMs: number; maintenanceCron: string };
  /** The generation module's workers. */
  generation: { workerConcurrency: number; leaseMs: number; maxRetries: number };
  /** The OpenAI-compatible provider for chat completions; null when none is configured. */
  ai: {
    baseUrl: string;
    apiKey: string | null;
    model: string;
    timeoutMs: number;
    /**
     * The provider's rate limits, kept by every process together
     * (platform/ai/token-budget.ts): the defaults, and the models whose own
     * limits replace them. All null and no models: calls are not paced.
     */
    limits: AiLimits & { models: Record<string, AiLimits> };
  } | null;
  /**
   * The OpenAI-compatible embeddings endpoint; null means the offline
   * hashing embedder (platform/embeddings), which needs no setup.
   */
  embeddings: { baseUrl: string; apiKey: string | null; model: string; timeoutMs: number } | null;
  /**
   * Chats: the most tokens of a chat's history a prompt carries (the oldest
   * messages drop out first), and the largest file an upload may be.
   */
  chat: { historyTokens: number; fileMaxBytes: number };
  /**
   * Knowledge: the two-tier cache's bounds in bytes, the hot tier in each
   * process and the warm tier in the key-value store (seed 004's 512 MB and
   * 2 GB, scaled down by default for a small machine).
   */
  knowledge: { cacheHotBytes: number; cacheWarmBytes: number };
  /** The change feed: how many changes its history keeps for clients that reconnect. */
  changes: { historySize: number };
  /**
   * Local transformers.js models under one directory (EMBEDDING_MODEL_DIR),
   * run on the compute pool's threads: `passageModel` embeds long texts
   * (journal entries), `shortModel` short ones (topics). Null: none.
   */
  localEmbeddings: { modelDir: string; passageModel: string; shortModel: string } | null;
  /** A model change's re-embedding: resources per step, and the pause between steps. */
  embeddingBackfill: { batchSize: number; pauseMs: number };
  database: DatabaseConfig;
  kv: KvConfig;
  blobs: BlobConfig;
}

/** A configuration value that cannot be used; names the variable and why. */
export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; reason: string }[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} ${p.reason}`).join("; ")}`);
    this.name = "ConfigError";
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  // Empty strings are treated as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? "environment"), reason: issue.message })),
    );
  }
  const e = parsed.data;
  const problems: { variable: string; reason: string }[] = [];
  if (e.DATABASE_READ_URL && !e.DATABASE_URL) {
    problems.push({ variable: "DATABASE_READ_URL", reason: "needs DATABASE_URL to be set as well" });
  }
  if (e.S3_ENDPOINT && !e.S3_BUCKET)
    problems.push({ variable: "S3_BUCKET", reason: "is required when S3_ENDPOINT is set" });
  if (Boolean(e.S3_ACCESS_KEY_ID) !== Boolean(e.S3_SECRET_ACCESS_KEY)) {
    problems.push({ variable: "S3_SECRET_ACCESS_KEY", reason: "and S3_ACCESS_KEY_ID must be set together" });
  }
  if (e.DATABASE_URL && !e.STRATA_SIGNING_SECRET) {
    // Every process of a server deployment must sign and verify with the same
    // key; one generated into a local data directory would differ per machine.
    problems.push({ variable: "STRATA_SIGNING_SECRET", reason: "is required when DATABASE_URL is set" });
  }
  for (const variable of ["AI_TOKENS_PER_MINUTE", "AI_REQUESTS_PER_MINUTE", "AI_MODEL_LIMITS"] as const) {
    if (e[variable] !== undefined && !e.AI_BASE_URL) {
      problems.push({ variable, reason: "needs AI_BASE_URL to be set as well" });
    }
  }
  if (e.EMBEDDING_MODEL_DIR && e.EMBEDDING_BASE_URL) {
    problems.push({
      variable: "EMBEDDING_MODEL_DIR",
      reason: "choose one embeddings provider: a local model directory or EMBEDDING_BASE_URL",
    });
  }
  for (const variable of ["EMBEDDING_PASSAGE_MODEL", "EMBEDDING_SHORT_MODEL"] as const) {
    if (present[variable] !== undefined && !e.EMBEDDING_MODEL_DIR) {
      problems.push({ variable, reason: "needs EMBEDDING_MODEL_DIR to be set as well" });
    }
  }
  for (const variable of ["EMBEDDING_API_KEY", "EMBEDDING_MODEL"] as const) {
    if (e[variable] !== undefined && !e.EMBEDDING_BASE_URL) {
      problems.push({ variable, reason: "needs EMBEDDING_BASE_URL to be set as well" });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(e.STRATA_DATA_DIR);
  const servers = [e.DATABASE_URL, e.REDIS_URL, e.S3_BUCKET].filter(Boolean).length;
  const config: Config = {
    profile: servers === 0 ? "embedded" : servers === 3 ? "server" : "mixed",
    http: {
      port: e.PORT,
      host: e.HOST,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      trustProxy: parseTrustProxy(e.TRUST_PROXY),
      corsOrigins: e.CORS_ORIGINS,
    },
    logLevel: e.LOG_LEVEL,
    dataDir,
    signingSecret: e.STRATA_SIGNING_SECRET ?? null,
    signedUrlTtlSeconds: e.SIGNED_URL_TTL_SECONDS,
    auth: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: e.REFRESH_TOKEN_TTL_SECONDS,
      refreshReuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      anonymousSessionTtlSeconds: e.ANONYMOUS_SESSION_TTL_SECONDS,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    generation: {
      workerConcurrency: e.GENERATION_WORKER_CONCURRENCY,
      leaseMs: e.GENERATION_LEASE_MS,
      maxRetries: e.GENERATION_MAX_RETRIES,
    },
    writing: {
      historyMigrationBatch: e.WRITING_HISTORY_MIGRATION_BATCH,
      historyMigrationPauseMs: e.WRITING_HISTORY_MIGRATION_PAUSE_MS,
      maintenanceCron: e.WRITING_MAINTENANCE_CRON,
    },
    ai: e.AI_BASE_URL
      ? {
          baseUrl: e.AI_BASE_URL,
          apiKey: e.AI_API_KEY ?? null,
          model: e.AI_MODEL,
          timeoutMs: e.AI_TIMEOUT_MS,
          limits: {
            tokensPerMinute: e.AI_TOKENS_PER_MINUTE ?? null,
            requestsPerMinute: e.AI_REQUESTS_PER_MINUTE ?? null,
            models: e.AI_MODEL_LIMITS ?? {},
          },
        }
      : null,
    embeddings: e.EMBEDDING_BASE_URL
      ? {
          baseUrl: e.EMBEDDING_BASE_URL,
          // One provider often serves both: its key is the chat key unless given.
          apiKey: e.EMBEDDING_API_KEY ?? e.AI_API_KEY ?? null,
          model: e.EMBEDDING_MODEL ?? DEFAULT_EMBEDDING_MODEL,
          timeoutMs: e.AI_TIMEOUT_MS,
        }
      : null,
    chat: { historyTokens: e.CHAT_HISTORY_TOKENS, fileMaxBytes: e.FILE_MAX_BYTES },
    changes: { historySize: e.CHANGES_HISTORY },
    knowledge: { cacheHotBytes: e.KNOWLEDGE_CACHE_HOT_BYTES, cacheWarmBytes: e.KNOWLEDGE_CACHE_WARM_BYTES },
    localEmbeddings: e.EMBEDDING_MODEL_DIR
      ? {
          modelDir: path.resolve(e.EMBEDDING_MODEL_DIR),
          passageModel: e.EMBEDDING_PASSAGE_MODEL,
          shortModel: e.EMBEDDING_SHORT_MODEL,
        }
      : null,
    embeddingBackfill: { batchSize: e.EMBEDDING_BACKFILL_BATCH, pauseMs: e.EMBEDDING_BACKFILL_PAUSE_MS },
    database: e.DATABASE_URL
      ? {
          driver: "postgres",
          url: e.DATABASE_URL,
          readUrl: e.DATABASE_READ_URL ?? null,
          poolMax: e.DATABASE_POOL_MAX,
          poolMin: Math.min(e.DATABASE_POOL_MIN, e.DATABASE_POOL_MAX),
          idleTimeoutMs: e.DATABASE_POOL_IDLE_MS,
          breakerFailures: e.DATABASE_BREAKER_FAILURES,
          breakerHalfOpenMs: e.DATABASE_BREAKER_HALF_OPEN_MS,
          statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
        }
      : { driver: "pglite", dataDir: path.join(dataDir, "pg"), statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS },
    kv: e.REDIS_URL
      ? { driver: "redis", url: e.REDIS_URL, keyPrefix: e.KV_KEY_PREFIX }
      : { driver: "memory", keyPrefix: e.KV_KEY_PREFIX },
    blobs: e.S3_BUCKET
      ? {
          driver: "s3",
          bucket: e.S3_BUCKET,
          endpoint: e.S3_ENDPOINT ?? null,
          region: e.S3_REGION,
          forcePathStyle: e.S3_FORCE_PATH_STYLE ?? Boolean(e.S3_ENDPOINT),
          credentials:
            e.S3_ACCESS_KEY_ID && e.S3_SECRET_ACCESS_KEY
              ? { accessKeyId: e.S3_ACCESS_KEY_ID, secretAccessKey: e.S3_SECRET_ACCESS_KEY }
              : null,
        }
      : { driver: "fs", root: path.join(dataDir, "blobs") },
  };
  return deepFreeze(config);
}

function parseTrustProxy(value: string): boolean | number | string[] {
  if (value === "true") return true;
  if (value === "false") return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** One AI_MODEL_LIMITS entry, or null when it is not `model=tokens/requests`. */
function parseModelLimit(item: string): [string, AiLimits] | null {
  const at = item.lastIndexOf("=");
  const model = item.slice(0, at).trim();
  const match = /^(\d*)\s*\/\s*(\d*)$/.exec(item.slice(at + 1).trim());
  if (at < 0 || !model || !match) return null;
  const limit = (digits: string | undefined) => (digits ? Number(digits) : null);
  const tokensPerMinute = limit(match[1]);
  const requestsPerMinute = limit(match[2]);
  for (const n of [tokensPerMinute, requestsPerMinute]) {
    if (n !== null && (n < 1 || !Number.isSafeInteger(n))) return null;
  }
  return [model, { tokensPerMinute, requestsPerMinute }];
}

/** The origin a browser would send for `value`, or null when `value` is not a bare http(s) origin. */
function parseOrigin(value: string): string | null {
  const match = /^(https?):\/\/([^/?#@*\s]+)\/?$/i.exec(value);
  if (!match) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

function deepFreeze<T>(value: T): Readonly<T> {
  if (value && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
