/**
 * Start-up and idle memory of `npm start` on the embedded profile.
 *
 * Measures, in one run: the time from spawning `npm start` until /ready
 * answers 200, on a fresh data directory and again on the same directory
 * (second start), and the server's resident memory after it has sat idle.
 * The peer is PGlite itself: opening a fresh and an existing data directory
 * with the same extensions, which is the floor Strata's start-up stands on.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { vector } from "@electric-sql/pglite-pgvector";

const ROOT = path.resolve(import.meta.dirname, "..");
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);

async function startAndWait(dataDir: string, port: number) {
  const started = performance.now();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: { ...process.env, STRATA_DATA_DIR: dataDir, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: "ignore",
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (performance.now() - started > 120_000) throw new Error("server did not become ready in 120 s");
    try {
      const res = await fetch(`${url}/ready`);
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { ms: performance.now() - started, url, stop: () => process.kill(-(child.pid as number), "SIGTERM"), child };
}

async function residentMemory(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function exited(child: ReturnType<typeof spawn>) {
  if (child.exitCode !== null) return;
  await new Promise((resolve) => child.once("exit", resolve));
}

export async function runStartupBench() {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-"));
  const port = 18_000 + Math.floor(Math.random() * 1000);
  try {
    const first = await startAndWait(path.join(dir, "data"), port);
    first.stop();
    await exited(first.child);
    const second = await startAndWait(path.join(dir, "data"), port);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
    const rss = await residentMemory(second.url);
    second.stop();
    await exited(second.child);

    const peerDir = path.join(dir, "peer");
    let t = performance.now();
    const fresh = await PGlite.create(peerDir, { extensions: { vector, pg_trgm } });
    await fresh.exec("create extension if not exists vector; create extension if not exists pg_trgm");
    const peerFresh = performance.now() - t;
    await fresh.close();
    t = performance.now();
    const again = await PGlite.create(peerDir, { extensions: { vector, pg_trgm } });
    await again.query("select 1");
    const peerAgain = performance.now() - t;
    await again.close();

    console.log("startup (embedded profile)            strata npm start -> /ready 200   peer: PGlite.create alone");
    console.log(`  fresh data directory                 ${fmt(first.ms)}                  ${fmt(peerFresh)}`);
    console.log(`  second start, same directory         ${fmt(second.ms)}                  ${fmt(peerAgain)}`);
    console.log(`  resident memory after ${IDLE_SECONDS} s idle       ${(rss / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function fmt(ms: number) {
  return `${(ms / 1000).toFixed(2)} s`.padStart(8);
}
