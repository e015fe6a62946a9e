import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { Gauge, type Registry } from "prom-client";
import type { Logger } from "../logging/logger.ts";

/** A copy as kept on disk: its rows, the database version they match, and when they last matched it. */
interface StoredCopy<Row> {
  version: string;
  syncedAt: string;
  rows: Row[];
}

/**
 * A local read-only copy of some of the database's rows, served while the
 * database cannot be (DESIGN.md: the seed's SQLite fallback). The module
 * that owns it decides what it holds and when it syncs; the copy keeps the
 * rows in memory, on disk under the data directory (so a process started
 * during an outage still has them), and says how old they are.
 *
 * `syncedAt` is when the copy was last known to match the database: set
 * when rows are replaced, and when a check finds the database's version
 * unchanged.
 */
export class LocalCopy<Row> {
  #rows: Row[] = [];
  #version: string | null = null;
  #syncedAt: Date | null = null;

  constructor(
    readonly name: string,
    private readonly file: string,
    /** Turns a row read back from JSON into a row as the database gives it (dates). */
    private readonly revive: (row: Row) => Row,
    private readonly logger: Logger,
  ) {}

  get rows(): readonly Row[] {
    return this.#rows;
  }

  get version(): string | null {
    return this.#version;
  }

  get syncedAt(): Date | null {
    return this.#syncedAt;
  }

  /** Seconds since the copy last matched the database (null before it ever did). */
  ageSeconds(now = Date.now()): number | null {
    return this.#syncedAt === null ? null : Math.max(0, (now - this.#syncedAt.getTime()) / 1000);
  }

  /** Reads the copy a previous run left on disk, if any; a missing or unreadable file leaves it empty. */
  async load(): Promise<void> {
    try {
      const stored = JSON.parse(await readFile(this.file, "utf8")) as StoredCopy<Row>;
      this.#rows = stored.rows.map(this.revive);
      this.#version = stored.version;
      this.#syncedAt = new Date(stored.syncedAt);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        this.logger.warn({ err: error, copy: this.name }, "local copy on disk unreadable; starting empty");
      }
    }
  }

  /** Replaces the rows with the database's, at `version`; written to disk before it resolves. */
  async replace(rows: Row[], version: string, now = new Date()): Promise<void> {
    this.#rows = rows;
    this.#version = version;
    this.#syncedAt = now;
    const stored: StoredCopy<Row> = { version, syncedAt: now.toISOString(), rows };
    await mkdir(path.dirname(this.file), { recursive: true });
    // Written aside and renamed, so a crash mid-write leaves the previous copy whole.
    const temporary = `${this.file}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(stored));
    await rename(temporary, this.file);
  }

  /** Records that the database is still at the copy's version. */
  verified(now = new Date()): void {
    this.#syncedAt = now;
  }
}

/** Every local copy of this process, for /ready and the age gauge in /metrics. */
export class LocalCopies {
  readonly #copies = new Map<string, LocalCopy<unknown>>();

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    registry: Registry,
  ) {
    const copies = this.#copies;
    new Gauge({
      name: "strata_local_copy_age_seconds",
      help: "Seconds since each local read-only copy last matched the database (-1 before its first sync).",
      labelNames: ["copy"],
      registers: [registry],
      collect() {
        for (const copy of copies.values()) this.set({ copy: copy.name }, copy.ageSeconds() ?? -1);
      },
    });
  }

  /** The copy called `name` (one per name), kept in `<data dir>/copies/<name>.json`. */
  copy<Row>(name: string, revive: (row: Row) => Row): LocalCopy<Row> {
    let copy = this.#copies.get(name) as LocalCopy<Row> | undefined;
    if (!copy) {
      copy = new LocalCopy<Row>(name, path.join(this.dir, `${name}.json`), revive, this.logger);
      this.#copies.set(name, copy as LocalCopy<unknown>);
    }
    return copy;
  }

  list(): LocalCopy<unknown>[] {
    return [...this.#copies.values()];
  }
}
