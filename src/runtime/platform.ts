import path from "node:path";
import type { Config } from "../config/config.ts";
import type { ChatClient } from "../platform/ai/chat-client.ts";
import { AiBudget, providerOf } from "../platform/ai/token-budget.ts";
import type { BlobStore } from "../platform/blobs/blob-store.ts";
import { FsBlobStore } from "../platform/blobs/fs-blob-store.ts";
import { Caches } from "../platform/cache/cache.ts";
import { ChangeFeed } from "../platform/changes/change-feed.ts";
import { type Clock, systemClock } from "../platform/clock.ts";
import { ComputePool } from "../platform/compute/compute-pool.ts";
import { type Database, openDatabase } from "../platform/database/database.ts";
import { registerBreakerGauge } from "../platform/database/database-breaker.ts";
import type { Embedder } from "../platform/embeddings/embedder.ts";
import type { EmbedderRegistry } from "../platform/embeddings/embedder-registry.ts";
import { VectorStore } from "../platform/embeddings/vector-store.ts";
import { Identity } from "../platform/identity/identity.ts";
import { registerJobMetrics } from "../platform/jobs/job-metrics.ts";
import { JobService } from "../platform/jobs/jobs.ts";
import { wakeUpsFor } from "../platform/jobs/wake-ups.ts";
import type { KvStore } from "../platform/kv/kv-store.ts";
import { MemoryKvStore } from "../platform/kv/memory-kv-store.ts";
import { LocalCopies } from "../platform/local-copy/local-copy.ts";
import { createLogger, type Logger } from "../platform/logging/logger.ts";
import { terminalDestination } from "../platform/logging/terminal-destination.ts";
import { dataDirLayout, registerDataDirGauge } from "../platform/metrics/data-dir-size.ts";
import { createMetrics, instrument, type Metrics } from "../platform/metrics/metrics.ts";
import type { Migration } from "../platform/migrations/migration.ts";
import { RateLimiter } from "../platform/rate-limit/rate-limiter.ts";
import { HybridSearch } from "../platform/search/hybrid-search.ts";
import { type DataDirLock, lockDataDir } from "./data-dir-lock.ts";
import { type DatabaseOrigin, prepareDatabaseDir } from "./database-image.ts";
import { DependencyStartError } from "./dependency-start-error.ts";
import { openEmbedders } from "./embedders.ts";

export { DependencyStartError };

import { resolveSigningSecret } from "./signing-secret.ts";

/**
 * Every platform service of one Strata process, opened from the config.
 * Server-side drivers (Redis, S3, the AI client) are imported only when
 * configured, so the embedded profile starts without loading them.
 * Modules, the HTTP layer and the workers receive this object; nothing opens
 * its own connections.
 */
export interface Platform {
  config: Readonly<Config>;
  logger: Logger;
  metrics: Metrics;
  database: Database;
  kv: KvStore;
  blobs: BlobStore;
  signingSecret: string;
  caches: Caches;
  rateLimiter: RateLimiter;
  identity: Identity;
  /** Chat completions from the configured provider; null when none is configured. */
  chat: ChatClient | null;
  /**
   * The provider's tokens and requests per minute, shared by every process
   * through the key-value store: acquire before a completion, settle with
   * its usage (platform/ai/token-budget.ts; completeWithinBudget does both).
   * Null when no provider is configured; without limits it never waits.
   */
  aiBudget: AiBudget | null;
  /**
   * Text embeddings: the configured OpenAI-compatible endpoint
   * (EMBEDDING_BASE_URL), or the offline hashing embedder, which needs no
   * setup (platform/embeddings).
   */
  embedder: Embedder;
  /** Every embedder this process can use, by model class and by model name (platform/embeddings). */
  embedders: EmbedderRegistry;
  /**
   * Vectors of every module's searchable resources in pgvector, kept in step
   * by a transactional outbox (platform/embeddings/vector-store.ts).
   */
  vectors: VectorStore;
  /** Full-text, trigram and vector search fused across the sources modules register (platform/search). */
  search: HybridSearch;
  /** Durable background jobs in the database (platform/jobs); its workers start with startWorkers. */
  jobs: JobService;
  /** Worker threads for CPU-heavy pure tasks; threads start on demand. */
  compute: ComputePool;
  /**
   * Committed changes, recorded by modules in their transactions and
   * delivered over `/v1/changes` to subscribers in every process
   * (platform/changes).
   */
  changes: ChangeFeed;
  /** Local read-only copies modules keep for when the database is down (platform/local-copy). */
  localCopies: LocalCopies;
  /**
   * The time what this process decides by time reads: the in-process
   * key-value store (TTLs, rate-limit buckets, generation marks) and the
   * filesystem store's signed links, made and checked. A clock a test passes
   * also times the in-process caches' TTLs and the rate limiter's memory of
   * refusals (otherwise they keep the monotonic performance.now()). Not the
   * database's `now()` nor Redis's clock; access tokens and sessions keep
   * the system clock.
   */
  clock: Clock;
  /** The embedded data directory's lock, held until close (null when the database is not PGlite on disk). */
  dataDirLock: DataDirLock | null;
  /** How the embedded database was opened this time (null on Postgres or in memory). */
  databaseOrigin: DatabaseOrigin | null;
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  logger?: Logger;
  metrics?: Metrics;
  /** What this process is, recorded in the data directory's lock so a refused process can name it. */
  command?: string;
  /** Every registered migration: lets a fresh embedded data directory start from the build's database image. */
  migrations?: readonly Migration[];
  /** The system clock unless a test passes its own (see Platform.clock). */
  clock?: Clock;
}

export async function openPlatform(config: Readonly<Config>, options: OpenPlatformOptions = {}): Promise<Platform> {
  // A person at a terminal reads lines; anything else (a collector, a file) gets JSON.
  const logger =
    options.logger ?? createLogger(config.logLevel, process.stdout.isTTY ? await terminalDestination() : undefined);
  const metrics = options.metrics ?? createMetrics();
  const clock = options.clock ?? systemClock;
  const opened: { close(): Promise<void> }[] = [];
  const closeOpened = async () => {
    for (const dep of opened.reverse()) await dep.close().catch(() => {});
  };
  try {
    if (!options.metrics) opened.push({ close: async () => metrics.stop() });
    const pgDir = config.database.driver === "pglite" ? config.database.dataDir : null;
    // The lock comes before anything touches the data directory, and is
    // released last (opened closes in reverse).
    const dataDirLock = pgDir ? await lockDataDir(config.dataDir, options.command ?? "strata") : null;
    if (dataDirLock) opened.push({ close: async () => dataDirLock.release() });
    if (dataDirLock?.tookOverFrom) {
      const { pid, command, startedAt } = dataDirLock.tookOverFrom;
      logger.warn(
        { previous: { pid, command, startedAt } },
        "took over the data directory lock of a process that is gone",
      );
    }
    const signingSecret = await resolveSigningSecret(config.signingSecret, config.dataDir);
    const databaseOrigin = pgDir ? await prepareDatabaseDir(pgDir, options.migrations ?? null) : null;
    const queries = {
      primary: metrics.databaseQueries.labels("primary"),
      read: metrics.databaseQueries.labels("read"),
    };
    const database = await start("database", databaseTarget(config), () =>
      openDatabase(config.database, { onQuery: (pool) => queries[pool].inc() }),
    );
    opened.push(database);
    if (databaseOrigin) logger.info({ dataDir: config.dataDir, database: databaseOrigin }, "database opened");
    await database.ping().catch((error) => {
      throw new DependencyStartError("database", databaseTarget(config), error);
    });
    const kvConfig = config.kv;
    const kv = await start<KvStore>("kv", kvTarget(config), async () => {
      if (kvConfig.driver === "memory") return new MemoryKvStore(kvConfig.keyPrefix, clock);
      const { RedisKvStore } = await import("../platform/kv/redis-kv-store.ts");
      return RedisKvStore.connect(kvConfig.url, kvConfig.keyPrefix);
    });
    opened.push(kv);
    const blobConfig = config.blobs;
    const blobs = await start<BlobStore>("blobs", blobTarget(config), async () => {
      if (blobConfig.driver === "fs") {
        return FsBlobStore.open(blobConfig.root, { publicUrl: config.http.publicUrl, secret: signingSecret }, clock);
      }
      const { S3BlobStore } = await import("../platform/blobs/s3-blob-store.ts");
      return S3BlobStore.open(blobConfig);
    });
    opened.push(blobs);
    metrics.setPoolSource(() => database.pools());
    if (database.breaker) registerBreakerGauge(metrics.registry, database.breaker);
    const localData = dataDirLayout(config);
    if (localData) registerDataDirGauge(metrics.registry, localData);
    const instrumentedKv = instrument(kv, metrics, "kv", kv.driver);
    // In-process caches keep lru-cache's monotonic clock unless a test brings one.
    const caches = new Caches(instrumentedKv, metrics, logger, options.clock);
    await caches.local.listen();
    opened.push(caches.local);
    // Closed before the stores it writes to: running jobs finish or are handed back first.
    // It keeps a share of the shutdown grace, so releasing fits inside it.
    const jobs = new JobService(
      database.db,
      wakeUpsFor(database, config.database.driver === "postgres" ? config.database.url : null, logger),
      logger,
      { graceMs: Math.max(0, config.shutdownGraceMs - 1_000), quiet: () => database.foreground.quiet() },
    );
    opened.push(jobs);
    registerJobMetrics(metrics.registry, database.db, jobs);
    // Pushed last, so closed first: its running tasks finish before the stores go.
    const compute = new ComputePool({}, metrics);
    opened.push(compute);
    const embedders = await openEmbedders(config, instrumentedKv, compute);
    const vectors = new VectorStore(database.db, embedders, jobs, logger);
    return {
      config,
      logger,
      metrics,
      database,
      kv: instrumentedKv,
      blobs: instrument(blobs, metrics, "blobs", blobs.driver),
      signingSecret,
      caches,
      rateLimiter: new RateLimiter(instrumentedKv, metrics, options.clock),
      identity: new Identity(database.db, instrumentedKv, caches, config.auth, signingSecret, logger, database.read),
      chat: config.ai ? (await import("../platform/ai/chat-client.ts")).createChatClient(config.ai) : null,
      aiBudget: config.ai ? new AiBudget(instrumentedKv, providerOf(config.ai.baseUrl), config.ai.limits) : null,
      embedder: embedders.forClass("passage"),
      embedders,
      vectors,
      search: new HybridSearch(database.read, vectors),
      jobs,
      compute,
      changes: new ChangeFeed(database.db, instrumentedKv, logger, { historySize: config.changes.historySize }),
      localCopies: new LocalCopies(path.join(config.dataDir, "copies"), logger, metrics.registry),
      clock,
      dataDirLock,
      databaseOrigin,
      close: closeOpened,
    };
  } catch (error) {
    await closeOpened();
    throw error;
  }
}

async function start<T>(
  dependency: DependencyStartError["dependency"],
  target: string,
  open: () => Promise<T>,
): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if (error instanceof DependencyStartError) throw error;
    throw new DependencyStartError(dependency, target, error);
  }
}

/** Where a dependency lives, without credentials. */
export function databaseTarget(config: Readonly<Config>): string {
  if (config.database.driver === "pglite") return `PGlite at ${config.database.dataDir ?? "memory"}`;
  return `Postgres at ${safeUrl(config.database.url)}`;
}

export function kvTarget(config: Readonly<Config>): string {
  return config.kv.driver === "redis" ? `Redis at ${safeUrl(config.kv.url)}` : "in-process store";
}

export function blobTarget(config: Readonly<Config>): string {
  if (config.blobs.driver === "fs") return `filesystem at ${config.blobs.root}`;
  return `S3 bucket ${config.blobs.bucket}${config.blobs.endpoint ? ` at ${config.blobs.endpoint}` : ""}`;
}

function safeUrl(raw: string): string {
  const url = new URL(raw);
  return `${url.hostname}:${url.port || "(default port)"}${url.pathname === "/" ? "" : url.pathname}`;
}
