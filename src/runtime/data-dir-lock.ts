import { randomUUID } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";

/**
 * One process per embedded data directory.
 *
 * PGlite is a single Postgres backend writing its files directly; two
 * processes on one directory each keep their own view and overwrite each
 * other's pages. So every process that opens the embedded data (serve,
 * worker, migrate) first holds `strata.lock` in the data directory.
 *
 * Why a lock file rather than a library: Node has no flock(2), and the
 * well-known lock-file libraries (proper-lockfile) judge staleness by an
 * mtime they refresh on a timer, which means waiting out a stale period
 * after a crash and recording no holder to name. Here the file holds the
 * holder as JSON (pid, its kernel start time, command, host, since when), so
 * a refusal names it, and staleness is decided at once by asking the kernel
 * whether that process still lives.
 *
 * Invariants:
 * - The file appears complete or not at all: it is written under a unique
 *   temporary name and hard-linked into place (link fails if one exists).
 * - A holder is alive when it runs on this host, `kill(pid, 0)` finds it, and
 *   (on Linux) its start time in /proc matches the recorded one; a reused pid
 *   has a different start time. A holder on another host cannot be checked,
 *   so it is never taken over; the message says which file to remove.
 * - Taking over a stale lock is serialized per stale holder: a taker first
 *   creates `strata.lock.takeover-<token of the stale holder>` exclusively,
 *   re-reads the lock, and only if it still holds that token renames its own
 *   file over it. While the stale token is in place nobody else can change
 *   the file (creating fails, other takers lose the exclusive create), so two
 *   processes racing over one stale lock end with exactly one holder, and a
 *   slow taker arriving after the swap sees a new token and backs off.
 */

export const LOCK_FILE = "strata.lock";

/** Tokens of the locks this process holds, so a second open in the same process is refused, not taken over. */
const heldHere = new Set<string>();

export interface LockHolder {
  pid: number;
  /** Kernel start time of the process (Linux /proc/<pid>/stat field 22), or null where unknown. */
  processStart: string | null;
  hostname: string;
  command: string;
  startedAt: string;
  token: string;
}

/** Another live process holds the data directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
    readonly lockFile: string,
  ) {
    const otherHost = holder.hostname !== hostname();
    super(
      `the data directory ${dataDir} is in use by pid ${holder.pid} (${holder.command}) ` +
        `on ${holder.hostname} since ${holder.startedAt}` +
        (otherHost
          ? `; it cannot be checked from this host: if that process is gone, remove ${lockFile}`
          : "; stop that process first, or give this one its own STRATA_DATA_DIR"),
    );
    this.name = "DataDirLockedError";
  }
}

export interface DataDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** True when this lock replaced one left by a process that had died. */
  readonly tookOverFrom: LockHolder | null;
  release(): void;
}

/** Takes the data directory's lock, or throws DataDirLockedError naming the live holder at once. */
export async function lockDataDir(dataDir: string, command: string): Promise<DataDirLock> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    processStart: processStartTime(process.pid),
    hostname: hostname(),
    command,
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  // Each pass either takes the lock, throws, or observed a change made by
  // another process (a release, a takeover) or a lock still being written;
  // a handful of passes is plenty.
  for (let attempt = 0; attempt < 100; attempt++) {
    if (tryCreate(file, me)) return held(file, me, null);
    const current = readHolder(file);
    if (current === undefined) continue; // released between our create and read
    if (current && isAlive(current)) throw new DataDirLockedError(dataDir, current, file);
    // Unreadable content is stale once it has aged: only this module writes
    // the file, whole (or, without hard links, within microseconds), so
    // garbage that stays garbage was not a holder's.
    if (current === null && isFresh(file)) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    if (takeOver(file, current, me)) return held(file, me, current);
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
  }
  throw new Error(`could not take the lock ${file}: it kept changing`);
}

function held(file: string, me: LockHolder, tookOverFrom: LockHolder | null): DataDirLock {
  let released = false;
  heldHere.add(me.token);
  const release = () => {
    if (released) return;
    released = true;
    heldHere.delete(me.token);
    process.off("exit", release);
    // Remove it only while it is still ours.
    if (readHolder(file)?.token === me.token) unlinkQuietly(file);
  };
  // Covers every way out short of SIGKILL, including process.exit() from a
  // fatal error; a killed process leaves a stale lock the next one takes over.
  process.on("exit", release);
  return { file, holder: me, tookOverFrom, release };
}

function tryCreate(file: string, me: LockHolder): boolean {
  const temp = writeTemp(file, me);
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    // A file system without hard links: create exclusively and write in
    // place. A reader may then meet the file empty for a moment, which is
    // why an unreadable lock is only judged once it has aged (see below).
    if (code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS" || code === "EOPNOTSUPP") {
      try {
        writeFileSync(file, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o644 });
        return true;
      } catch (inner) {
        if ((inner as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw inner;
      }
    }
    throw error;
  } finally {
    unlinkQuietly(temp);
  }
}

/** An unreadable lock younger than this may be one being written; it is judged only once older. */
const UNREADABLE_GRACE_MS = 2_000;

function isFresh(file: string): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs < UNREADABLE_GRACE_MS;
  } catch {
    return false;
  }
}

function takeOver(file: string, stale: LockHolder | null, me: LockHolder): boolean {
  const staleToken = stale?.token ?? "unreadable";
  const marker = `${file}.takeover-${staleToken.replace(/[^\w-]/g, "")}`;
  try {
    closeSync(openSync(marker, "wx"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // Someone else is taking over this very holder. A taker finishes in
    // microseconds; a marker left by a taker that died mid-way would block
    // this stale token for good, so a marker whose owner is gone is cleared.
    clearAbandonedMarker(marker);
    return false;
  }
  try {
    writeFileSync(marker, JSON.stringify({ pid: me.pid, processStart: me.processStart, hostname: me.hostname }));
    const now = readHolder(file);
    if (now === undefined) return false; // released meanwhile; the next pass creates it normally
    if ((now?.token ?? "unreadable") !== staleToken) return false;
    const temp = writeTemp(file, me);
    renameSync(temp, file);
    return true;
  } finally {
    unlinkQuietly(marker);
  }
}

function clearAbandonedMarker(marker: string) {
  try {
    const owner = JSON.parse(readFileSync(marker, "utf8")) as Pick<LockHolder, "pid" | "processStart" | "hostname">;
    if (!isAlive(owner)) unlinkQuietly(marker);
  } catch {
    // Empty (its owner is between create and write) or already gone: leave it.
  }
}

function writeTemp(file: string, me: LockHolder): string {
  const temp = `${file}.${me.token}.${randomUUID().slice(0, 8)}.tmp`;
  writeFileSync(temp, `${JSON.stringify(me)}\n`, { flag: "wx", mode: 0o644 });
  return temp;
}

/** The holder, null when the file is unreadable, undefined when there is no file. */
export function readHolder(file: string): LockHolder | null | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as LockHolder;
    return typeof value.pid === "number" && typeof value.token === "string" ? value : null;
  } catch {
    return null;
  }
}

function isAlive(holder: Pick<LockHolder, "pid" | "processStart" | "hostname"> & { token?: string }): boolean {
  if (holder.hostname !== hostname()) return true; // cannot tell: assume it is
  // Our own pid: held by this very process, or left by an earlier process
  // that had the same pid (a container's pid 1 after a restart).
  if (holder.pid === process.pid) return holder.token !== undefined && heldHere.has(holder.token);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(holder.pid);
  if (!stat) return true; // no /proc (not Linux): kill(pid, 0) is all there is
  // A zombie (killed, not yet reaped by its parent) holds nothing any more.
  if (stat.state === "Z" || stat.state === "X") return false;
  return holder.processStart === null || stat.startTime === holder.processStart;
}

function processStartTime(pid: number): string | null {
  return procStat(pid)?.startTime ?? null;
}

/**
 * State (field 3) and start time in clock ticks since boot (field 22) from
 * /proc/<pid>/stat. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted after its last closing parenthesis.
 * Null off Linux or when the process is gone.
 */
function procStat(pid: number): { state: string; startTime: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", startTime: fields[19] ?? "" };
  } catch {
    return null;
  }
}

function unlinkQuietly(file: string) {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}
