import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";

/**
 * WAL settings for the embedded database.
 *
 * PGlite runs Postgres in single-user mode: there is no checkpointer, so WAL
 * is only recycled when Strata runs CHECKPOINT itself (storage-hygiene.ts),
 * and what a checkpoint leaves behind is decided by min_wal_size and
 * max_wal_size: old segments are kept as recycled future segments up to
 * somewhere between the two. Stock Postgres keeps 80 MB to 1 GB, in 16 MB
 * segments, which for an embedded database is most of the directory.
 *
 * A new data directory is therefore created with 1 MB segments, and every
 * directory keeps 2 to 4 segments after a checkpoint. The segment size is
 * fixed when a directory is created, and Postgres refuses to start with
 * min_wal_size under two segments, so a directory made before this (16 MB
 * segments) keeps 32 to 64 MB.
 */
export const NEW_WAL_SEGMENT_BYTES = 1024 * 1024;

export interface PGliteWalOptions {
  /** Passed to initdb when the directory is new (also for an in-memory database). */
  initDbStartParams: string[];
  startParams: string[];
}

/** The options for opening `dataDir` (null: in memory), from the segment size it was created with. */
export async function pgliteWalOptions(dataDir: string | null): Promise<PGliteWalOptions> {
  const segment = (dataDir ? await existingSegmentBytes(dataDir) : null) ?? NEW_WAL_SEGMENT_BYTES;
  const mb = (segments: number) => `${(segments * segment) / (1024 * 1024)}MB`;
  return {
    initDbStartParams: [`--wal-segsize=${NEW_WAL_SEGMENT_BYTES / (1024 * 1024)}`],
    startParams: [
      ...PGlite.defaultStartParams,
      ...["-c", `min_wal_size=${mb(2)}`],
      ...["-c", `max_wal_size=${mb(4)}`],
      // Full-page images are most of the WAL written right after a checkpoint;
      // compressing them costs little CPU and changes nothing about recovery.
      ...["-c", "wal_compression=on"],
    ],
  };
}

const SEGMENT_NAME = /^[0-9A-F]{24}$/;

/** The WAL segment size of an existing data directory (every segment file has it), or null if there is none yet. */
export async function existingSegmentBytes(dataDir: string): Promise<number | null> {
  let names: string[];
  try {
    names = await readdir(path.join(dataDir, "pg_wal"));
  } catch {
    return null;
  }
  const segment = names.find((name) => SEGMENT_NAME.test(name));
  if (!segment) return null;
  return (await stat(path.join(dataDir, "pg_wal", segment))).size;
}
