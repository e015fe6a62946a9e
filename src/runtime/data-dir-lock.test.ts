import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { DataDirLockedError, LOCK_FILE, lockDataDir, readHolder } from "./data-dir-lock.ts";

const LOCK_MODULE = path.resolve(import.meta.dirname, "data-dir-lock.ts");

/**
 * A separate process that runs `lockDataDir(dir)` and reports one JSON line:
 * {"held": pid} or {"refused": holderPid}. It keeps a held lock until killed.
 */
function lockingProcess(dir: string, startAt = 0): ChildProcess {
  // startAt: a wall-clock time all racers wait for, so they collide.
  const script = `
    const { lockDataDir, DataDirLockedError } = await import(${JSON.stringify(LOCK_MODULE)});
    while (Date.now() < ${startAt}) {}
    try {
      await lockDataDir(${JSON.stringify(dir)}, "test holder");
      process.stdout.write(JSON.stringify({ held: process.pid }) + "\\n");
      setTimeout(() => {}, 60_000);
    } catch (error) {
      if (!(error instanceof DataDirLockedError)) throw error;
      process.stdout.write(JSON.stringify({ refused: error.holder.pid }) + "\\n");
    }`;
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function firstLine(child: ChildProcess): Promise<{ held?: number; refused?: number }> {
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (d) => {
      text += d;
      const end = text.indexOf("\n");
      if (end >= 0) resolve(JSON.parse(text.slice(0, end)));
    });
    child.once("exit", (code) => reject(new Error(`locking process exited with ${code} before reporting`)));
  });
}

function exited(child: ChildProcess) {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
}

describe("data directory lock", () => {
  const dirs: string[] = [];
  const freshDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "strata-lock-"));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("is held by one process at a time and names its holder", async () => {
    const dir = await freshDir();
    const lock = await lockDataDir(dir, "strata serve");
    const holder = readHolder(path.join(dir, LOCK_FILE));
    assert.equal(holder?.pid, process.pid);
    assert.equal(holder?.command, "strata serve");
    assert.equal(holder?.hostname, hostname());

    const other = lockingProcess(dir);
    assert.deepEqual(await firstLine(other), { refused: process.pid });
    await exited(other);
    // A second open inside the holding process is refused too, never taken over.
    await assert.rejects(lockDataDir(dir, "again"), (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.match(error.message, new RegExp(`in use by pid ${process.pid} \\(strata serve\\)`));
      return true;
    });

    lock.release();
    assert.deepEqual(await readdir(dir), [], "release removes the lock file");
    const again = await lockDataDir(dir, "strata serve");
    assert.equal(again.tookOverFrom, null);
    again.release();
  });

  it("takes over the lock of a process killed with SIGKILL", async () => {
    const dir = await freshDir();
    const holder = lockingProcess(dir);
    const { held } = await firstLine(holder);
    assert.equal(typeof held, "number");
    holder.kill("SIGKILL");
    await exited(holder);
    assert.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, held, "a killed process leaves its lock behind");

    const lock = await lockDataDir(dir, "strata serve");
    assert.equal(lock.tookOverFrom?.pid, held);
    assert.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, process.pid);
    lock.release();
  });

  it("does not mistake a live process that reused the holder's pid for the holder", async () => {
    const dir = await freshDir();
    // The recorded pid is alive (our parent), but its start time is not the
    // one recorded: the holder died and the pid went to someone else.
    const stale = {
      pid: process.ppid,
      processStart: "1",
      hostname: hostname(),
      command: "strata serve",
      startedAt: "2020-01-01T00:00:00.000Z",
      token: "old-holder",
    };
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify(stale));
    const lock = await lockDataDir(dir, "strata serve");
    assert.equal(lock.tookOverFrom?.token, "old-holder");
    lock.release();
  });

  it("takes over an unreadable lock file once it has aged, not while it may still be being written", async () => {
    const dir = await freshDir();
    const file = path.join(dir, LOCK_FILE);
    await writeFile(file, "not json");
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    const lock = await lockDataDir(dir, "strata serve");
    assert.equal(readHolder(path.join(dir, LOCK_FILE))?.token, lock.holder.token);
    lock.release();
  });

  it("waits for a lock file that may still be being written rather than taking it over", async () => {
    const dir = await freshDir();
    const file = path.join(dir, LOCK_FILE);
    await writeFile(file, "");
    const attempt = lockDataDir(dir, "strata serve");
    // The writer finishes: a live holder (our parent process).
    const holder = { pid: process.ppid, processStart: null, hostname: hostname(), command: "strata serve" };
    setTimeout(() => {
      void writeFile(file, JSON.stringify({ ...holder, startedAt: new Date().toISOString(), token: "writer" }));
    }, 200);
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.equal(error.holder.pid, process.ppid);
      return true;
    });
  });

  it("never takes over a holder on another host, and says which file to remove", async () => {
    const dir = await freshDir();
    const remote = {
      pid: 999_999,
      processStart: null,
      hostname: `${hostname()}-elsewhere`,
      command: "strata serve",
      startedAt: "2020-01-01T00:00:00.000Z",
      token: "remote",
    };
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify(remote));
    await assert.rejects(lockDataDir(dir, "strata serve"), (error: unknown) => {
      assert.ok(error instanceof DataDirLockedError);
      assert.equal(error.holder.pid, 999_999);
      assert.match(error.message, /cannot be checked from this host: if that process is gone, remove .*strata\.lock/);
      return true;
    });
  });

  it("gives a stale lock to exactly one of several processes racing to take it over", async () => {
    const dir = await freshDir();
    // A holder that is certainly dead: run a process, let it exit, use its pid.
    const gone = spawn(process.execPath, ["-e", ""]);
    await exited(gone);
    const stale = {
      pid: gone.pid,
      processStart: null,
      hostname: hostname(),
      command: "strata serve",
      startedAt: "2020-01-01T00:00:00.000Z",
      token: "dead-holder",
    };
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify(stale));
    // Each racer loads in its own time (seconds on a busy machine), then all
    // spin until the same instant and go.
    const startAt = Date.now() + 4_000;
    const racers = Array.from({ length: 6 }, () => lockingProcess(dir, startAt));
    try {
      const results = await Promise.all(racers.map(firstLine));
      const winners = results.filter((r) => r.held !== undefined);
      assert.equal(winners.length, 1, `exactly one holder: ${JSON.stringify(results)}`);
      const winner = winners[0]?.held;
      for (const r of results)
        if (r.refused !== undefined) assert.equal(r.refused, winner, "the others name the winner");
      assert.equal(readHolder(path.join(dir, LOCK_FILE))?.pid, winner);
      const leftovers = (await readdir(dir)).filter((f) => f !== LOCK_FILE);
      assert.deepEqual(leftovers, [], "no takeover markers or temporary files are left behind");
    } finally {
      for (const racer of racers) racer.kill("SIGKILL");
      await Promise.all(racers.map(exited));
    }
  });

  it("keeps the holder's JSON readable for operators", async () => {
    const dir = await freshDir();
    const lock = await lockDataDir(dir, "strata migrate up");
    const json = JSON.parse(await readFile(path.join(dir, LOCK_FILE), "utf8"));
    assert.deepEqual(Object.keys(json).sort(), ["command", "hostname", "pid", "processStart", "startedAt", "token"]);
    lock.release();
  });
});
