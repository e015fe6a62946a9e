import type { App } from "../http/app.ts";
import type { ChangeTopic } from "../platform/changes/change.ts";
import type { EmbeddingSource } from "../platform/embeddings/embedding-sources.ts";
import type { TransferContext } from "../platform/identity/ownership-transfer.ts";
import type { Migration } from "../platform/migrations/migration.ts";
import type { SearchSource } from "../platform/search/search-source.ts";
import type { Platform } from "./platform.ts";

/** How a process runs the modules' workers (`strata worker --concurrency N`). */
export interface ModuleWorkerOptions {
  /** Items a module's workers process at once in this process; each module's configured default when unset. */
  concurrency?: number;
}

/** What `strata seed` reports of a module's starter data. */
export interface SeedOutcome {
  added: number;
  updated: number;
  unchanged: number;
}

/**
 * What a module (writing, generation, journal, chat, knowledge) hands the
 * runtime. Each module exports one of these from its index.ts, and
 * src/modules/index.ts lists them: the one place a module is registered.
 * Later platform services add their hooks here (jobs, retention rules).
 */
export interface StrataModule {
  name: string;
  migrations: Migration[];
  /** Registers the module's routes; called once, inside the /v1 prefix. */
  routes?(app: App, platform: Platform): Promise<void> | void;
  /**
   * Moves the rows (and blobs) an anonymous session owns to the account that
   * claims it, inside the registration or login transaction.
   */
  ownershipTransfer?(context: TransferContext, platform: Platform): Promise<void>;
  /**
   * What the module makes searchable: texts the platform embeds (kept in
   * step through the outbox), and sources `GET /v1/search` fuses.
   */
  search?: { embeddings: EmbeddingSource[]; sources: SearchSource[] };
  /**
   * The change-feed topics the module publishes to (`/v1/changes`), with
   * who may follow each.
   */
  changeTopics?(platform: Platform): ChangeTopic[];
  /**
   * Loads the module's starter data (`strata seed`); idempotent, so it can
   * run on every deploy. `progress` hears of each item done.
   */
  seed?(platform: Platform, progress: (done: number, total: number) => void): Promise<SeedOutcome>;
  /** Starts the module's background work; the returned function stops it. */
  startWorkers?(platform: Platform, options: ModuleWorkerOptions): Promise<() => Promise<void>> | (() => Promise<void>);
}
