import { lstat, opendir } from "node:fs/promises";
import path from "node:path";
import { Gauge, type Registry } from "prom-client";
import type { Config } from "../../config/config.ts";

/**
 * The bytes a data directory holds, by part:
 * - pg_base: the embedded database's tables and indexes (`pg/base`);
 * - pg_wal: its write-ahead log (`pg/pg_wal`);
 * - pg_other: the rest of the database directory (catalog, commit status...);
 * - blobs: the filesystem blob store;
 * - other: anything else under the data directory.
 */
export const DATA_DIR_PARTS = ["pg_base", "pg_wal", "pg_other", "blobs", "other"] as const;
export type DataDirPart = (typeof DATA_DIR_PARTS)[number];
export type DataDirSizes = Record<DataDirPart, number>;

export interface DataDirLayout {
  root: string;
  /** The embedded database's directory, if the database is local. */
  pg: string | null;
  /** The filesystem blob store's root, if blobs are local. */
  blobs: string | null;
}

/** What of this process's data lives on local disk; null when nothing does (Postgres server and S3). */
export function dataDirLayout(config: Readonly<Config>): DataDirLayout | null {
  const pg = config.database.driver === "pglite" ? config.database.dataDir : null;
  const blobs = config.blobs.driver === "fs" ? config.blobs.root : null;
  if (!pg && !blobs) return null;
  return { root: config.dataDir, pg, blobs };
}

/**
 * Walks the layout with asynchronous file-system calls (never blocking the
 * event loop), a few stats at a time. Files that vanish mid-walk (a WAL
 * segment recycled, a blob deleted) are skipped.
 */
export async function measureDataDir(layout: DataDirLayout): Promise<DataDirSizes> {
  const sizes: DataDirSizes = { pg_base: 0, pg_wal: 0, pg_other: 0, blobs: 0, other: 0 };
  const partOf = (file: string): DataDirPart => {
    if (layout.pg && isInside(file, layout.pg)) {
      const top = path.relative(layout.pg, file).split(path.sep)[0];
      return top === "base" ? "pg_base" : top === "pg_wal" ? "pg_wal" : "pg_other";
    }
    if (layout.blobs && isInside(file, layout.blobs)) return "blobs";
    return "other";
  };
  const roots = [layout.root, layout.pg, layout.blobs].filter(
    (dir): dir is string => dir !== null && (dir === layout.root || !isInside(dir, layout.root)),
  );
  for (const root of roots) {
    await walk(root, (file, bytes) => {
      sizes[partOf(file)] += bytes;
    });
  }
  return sizes;
}

const STATS_AT_ONCE = 32;

async function walk(dir: string, add: (file: string, bytes: number) => void): Promise<void> {
  let handle: Awaited<ReturnType<typeof opendir>>;
  try {
    handle = await opendir(dir);
  } catch {
    return; // missing or vanished
  }
  const subdirs: string[] = [];
  let files: string[] = [];
  const statFiles = async () => {
    const batch = files;
    files = [];
    await Promise.all(
      batch.map(async (file) => {
        try {
          add(file, (await lstat(file)).size);
        } catch {
          // vanished
        }
      }),
    );
  };
  for await (const entry of handle) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) subdirs.push(full);
    else if (entry.isFile()) {
      files.push(full);
      if (files.length >= STATS_AT_ONCE) await statFiles();
    }
  }
  await statFiles();
  for (const sub of subdirs) await walk(sub, add);
}

function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * Cached sizes: a scrape answers from the cache at once and, when the cache
 * is older than `maxAgeMs`, starts one walk in the background for the next
 * scrape. Only the first scrape waits (there is nothing to answer with yet).
 * Nothing runs while nobody scrapes.
 */
export class DataDirSizeCache {
  #sizes: DataDirSizes | null = null;
  #measuredAt = 0;
  #walking: Promise<DataDirSizes> | null = null;

  constructor(
    private readonly layout: DataDirLayout,
    private readonly maxAgeMs = 15_000,
  ) {}

  async current(): Promise<DataDirSizes> {
    const stale = Date.now() - this.#measuredAt > this.maxAgeMs;
    if (stale && !this.#walking) {
      this.#walking = measureDataDir(this.layout)
        .then((sizes) => {
          this.#sizes = sizes;
          this.#measuredAt = Date.now();
          return sizes;
        })
        .finally(() => {
          this.#walking = null;
        });
    }
    return this.#sizes ?? (this.#walking as Promise<DataDirSizes>);
  }
}

/** Registers `strata_data_dir_bytes{part}` on the registry, answered from a cache. */
export function registerDataDirGauge(registry: Registry, layout: DataDirLayout, maxAgeMs?: number): DataDirSizeCache {
  const cache = new DataDirSizeCache(layout, maxAgeMs);
  const name = "strata_data_dir_bytes";
  // A registry shared by a second platform (tests) reports the newest one's directory.
  registry.removeSingleMetric(name);
  new Gauge({
    name,
    help: "Bytes on disk under the data directory, by part (pg_base, pg_wal, pg_other, blobs, other); refreshed in the background at most every 15 s.",
    labelNames: ["part"],
    registers: [registry],
    async collect() {
      const sizes = await cache.current();
      for (const part of DATA_DIR_PARTS) this.set({ part }, sizes[part]);
    },
  });
  return cache;
}
